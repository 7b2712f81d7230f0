/**
 * The one place where an `HttpPeer`'s TLS fields become `node:tls` client options (Pingora's
 * rules: an empty SNI sends no SNI and skips verification; `verifyHostname` checks the SNI or the
 * `alternativeCn`).
 */
import net from 'node:net';
import tls from 'node:tls';
import type { HttpPeer } from './peer.js';

const ALPN_WIRE: Record<string, string[]> = { h1: ['http/1.1'], h2: ['h2'], h2h1: ['h2', 'http/1.1'] };

/** `tls.connect` options for `peer` (without the socket). */
export function tlsConnectOptions(peer: HttpPeer): tls.ConnectionOptions {
  const o = peer.options;
  const sni = peer.sni;
  const verify = sni !== '' && o.verifyCert;
  const opts: tls.ConnectionOptions = {
    rejectUnauthorized: verify,
    ALPNProtocols: ALPN_WIRE[o.alpn],
    minVersion: 'TLSv1.2',
  };
  // SNI must not carry an IP address (RFC 6066 §3).
  if (sni !== '' && net.isIP(sni) === 0) opts.servername = sni;
  if (o.ca !== undefined) opts.ca = o.ca;
  if (peer.clientCertKey !== undefined) {
    opts.cert = peer.clientCertKey.cert;
    opts.key = peer.clientCertKey.key;
  }
  if (!verify || !o.verifyHostname) {
    opts.checkServerIdentity = () => undefined;
  } else {
    const alt = o.alternativeCn;
    opts.checkServerIdentity = (_host, cert) => {
      const byName = tls.checkServerIdentity(sni, cert);
      if (byName === undefined || alt === undefined) return byName;
      return tls.checkServerIdentity(alt, cert);
    };
  }
  return opts;
}
