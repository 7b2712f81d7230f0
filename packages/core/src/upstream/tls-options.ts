/**
 * An `HttpPeer`'s TLS fields as `tls.connect` options. The rules (empty SNI = no SNI and no
 * verification, hostname checks against the SNI or `alternativeCn`, shared secure contexts) live
 * in `@pingora-ts/tls-openssl`, the one place that turns TLS settings into `node:tls` options.
 */
import type tls from 'node:tls';
import { type Pem, tlsClientOptions } from '@pingora-ts/tls-openssl';
import type { HttpPeer } from './peer.js';

/**
 * `tls.connect` options for `peer` (without the socket). `defaultCa` (the connector's, from the
 * server configuration's `ca_file`) applies when the peer sets no `ca`.
 */
export function tlsConnectOptions(peer: HttpPeer, defaultCa?: Pem): tls.ConnectionOptions {
  const o = peer.options;
  return tlsClientOptions({
    sni: peer.sni,
    verifyCert: o.verifyCert,
    verifyHostname: o.verifyHostname,
    alternativeCn: o.alternativeCn,
    ca: o.ca ?? defaultCa,
    clientCertKey: peer.clientCertKey,
    alpn: o.alpn,
  });
}
