/**
 * `TlsAccept`: user callbacks run during a downstream handshake (Pingora's `TlsAccept` trait).
 */
import type * as tls from 'node:tls';
import type { CertKey } from './cert-key.js';

/**
 * What a certificate callback may answer: a ready `tls.SecureContext` (build it once with
 * `settings.createSecureContext(certKey)` and cache it), a {@link CertKey} (turned into a context
 * with the listener's profile, cached per object), or nothing to keep the default certificate.
 */
export type CertificateChoice = tls.SecureContext | CertKey | undefined | null;

/**
 * Callbacks of a TLS listener (Pingora's `TlsAccept`).
 *
 * @example
 * ```ts
 * const contexts = new Map<string, tls.SecureContext>();
 * const settings = TlsSettings.withCallbacks({
 *   async certificateCallback(servername) {
 *     let ctx = contexts.get(servername);
 *     if (ctx === undefined) {
 *       const ck = await loadCertKeyAsync(`/certs/${servername}.pem`, `/certs/${servername}.key`);
 *       contexts.set(servername, (ctx = settings.createSecureContext(ck)));
 *     }
 *     return ctx;
 *   },
 *   handshakeCompleteCallback: (socket) => ({ tenant: socket.servername }),
 * });
 * ```
 */
export interface TlsAccept {
  /**
   * Picks the certificate for a client that sent SNI `servername`, mid-handshake (the handshake
   * waits for a returned promise). Clients without SNI get the settings' default certificate,
   * since OpenSSL (through node) only asks when there is a name. A throw or rejection aborts
   * that handshake only.
   */
  certificateCallback?(
    servername: string,
    socket: tls.TLSSocket,
  ): CertificateChoice | Promise<CertificateChoice>;
  /**
   * Runs once the handshake succeeded, before the connection reaches the app; its value (or the
   * value of its promise) becomes `SslDigest.extension` on the connection's digest. A throw or
   * rejection closes that connection.
   */
  handshakeCompleteCallback?(socket: tls.TLSSocket): unknown;
}
