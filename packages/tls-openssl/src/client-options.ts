/**
 * The one place where an upstream peer's TLS fields become `tls.connect` options, with Pingora's
 * rules: an empty SNI sends no SNI and skips verification (nginx's behaviour); `verifyHostname`
 * accepts the SNI, the SNI with underscores of its leftmost label turned into dashes, or the
 * `alternativeCn`. Secure contexts (CAs, client certificate) are built once per distinct
 * material (compared by content) and reused by every connection, instead of once per connection.
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import { ALPN_PROTOCOLS, type ALPN } from './alpn.js';
import type { CertKey, Pem } from './cert-key.js';
import { joinPem, tlsMaterialDigest } from './material.js';

/** The TLS fields of an upstream peer (Pingora's `HttpPeer` + `PeerOptions`), as plain data. */
export interface UpstreamTls {
  /** Server name; empty = no SNI and no verification. */
  sni: string;
  /** Verify the certificate chain. */
  verifyCert: boolean;
  /** Verify that the certificate names the SNI (or `alternativeCn`). */
  verifyHostname: boolean;
  /** Another accepted name. */
  alternativeCn: string | undefined;
  /** Trusted CAs instead of Node's bundled Mozilla roots. */
  ca: Pem | undefined;
  /** Client certificate for mutual TLS. */
  clientCertKey: CertKey | undefined;
  /** ALPN offer. */
  alpn: ALPN;
}

/**
 * Pingora's `replace_leftmost_underscore`: `my_host.example.com` → `my-host.example.com`, only for
 * a name with at least three labels whose leftmost label has an underscore; otherwise `undefined`.
 */
export function replaceLeftmostUnderscore(sni: string): string | undefined {
  const dot = sni.indexOf('.');
  if (dot < 0) return undefined;
  const leftmost = sni.slice(0, dot);
  const rest = sni.slice(dot + 1);
  if (!rest.includes('.') || !leftmost.includes('_')) return undefined;
  return `${leftmost.replaceAll('_', '-')}.${rest}`;
}

/** node error codes that mean "the origin's certificate is not acceptable" (→ `InvalidCert`). */
const CERT_VERIFY_ERRORS = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'INVALID_CA',
  'INVALID_PURPOSE',
  'PATH_LENGTH_EXCEEDED',
  'HOSTNAME_MISMATCH',
]);

/** Whether a `tls.connect` error code is a certificate verification failure. */
export function isCertVerifyError(code: string | undefined): boolean {
  return code !== undefined && CERT_VERIFY_ERRORS.has(code);
}

// Contexts by the content of their CA and client certificate (see material.ts), so peers built
// per request from fresh copies of the same files share one. Bounded; the oldest goes first.
const contexts = new Map<string, tls.SecureContext>();
const CONTEXT_CACHE_MAX = 256;

/**
 * The client context for these CAs and client certificate, built on first use and then shared by
 * every connection given the same material (compared by content; each object is hashed once).
 * A client certificate chain given as a list (leaf, then intermediates) is sent as one chain.
 */
export function clientSecureContext(
  ca: Pem | undefined,
  clientCertKey: CertKey | undefined,
): tls.SecureContext {
  const key = `${tlsMaterialDigest(ca)}|${tlsMaterialDigest(clientCertKey)}`;
  let ctx = contexts.get(key);
  if (ctx === undefined) {
    const o: tls.SecureContextOptions = { minVersion: 'TLSv1.2' };
    if (ca !== undefined) o.ca = ca;
    if (clientCertKey !== undefined) {
      // node:tls reads a list of certificates as one chain per key; ours is one chain, leaf first.
      o.cert = joinPem(clientCertKey.cert);
      o.key = clientCertKey.key;
      if (clientCertKey.passphrase !== undefined) o.passphrase = clientCertKey.passphrase;
    }
    ctx = tls.createSecureContext(o);
    if (contexts.size >= CONTEXT_CACHE_MAX) contexts.delete(contexts.keys().next().value!);
    contexts.set(key, ctx);
  }
  return ctx;
}

/**
 * `tls.connect` options (without the socket) for an upstream peer.
 *
 * @example
 * ```ts
 * const secure = tls.connect({ ...tlsClientOptions({ sni: 'origin.example', verifyCert: true,
 *   verifyHostname: true, alternativeCn: undefined, ca: undefined, clientCertKey: undefined,
 *   alpn: 'h1' }), socket: tcp });
 * ```
 */
export function tlsClientOptions(peer: UpstreamTls): tls.ConnectionOptions {
  const sni = peer.sni;
  const verify = sni !== '' && peer.verifyCert;
  const opts: tls.ConnectionOptions = {
    secureContext: clientSecureContext(peer.ca, peer.clientCertKey),
    rejectUnauthorized: verify,
    ALPNProtocols: [...ALPN_PROTOCOLS[peer.alpn]],
  };
  // SNI must not carry an IP address (RFC 6066 §3); verification still checks the IP SAN.
  if (sni !== '' && net.isIP(sni) === 0) opts.servername = sni;
  if (!verify || !peer.verifyHostname) {
    opts.checkServerIdentity = () => undefined;
  } else {
    const names = [sni];
    const rewritten = replaceLeftmostUnderscore(sni);
    if (rewritten !== undefined) names.push(rewritten);
    if (peer.alternativeCn !== undefined && peer.alternativeCn !== '') names.push(peer.alternativeCn);
    opts.checkServerIdentity = (_host, cert) => {
      let firstError: Error | undefined;
      for (const name of names) {
        const err = tls.checkServerIdentity(name, cert);
        if (err === undefined) return undefined;
        firstError ??= err;
      }
      return firstError;
    };
  }
  return opts;
}
