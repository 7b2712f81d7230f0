/**
 * @module @pingora-ts/tls-openssl
 *
 * TLS for pingora-ts on `node:tls` (which is OpenSSL), after Pingora's `pingora-openssl` and the
 * TLS parts of `pingora-core`. Downstream, {@link TlsSettings} describes a listener: the Mozilla
 * intermediate profile, certificates from files or PEM, ALPN with Pingora's server-side rules,
 * certificates chosen per SNI name by an async callback, client certificates (mutual TLS), a
 * handshake-complete hook, and certificate reload without restart. {@link acceptTls} runs the
 * server side of a handshake on an accepted socket; the connection's {@link SslDigest} says what
 * was negotiated. Upstream, {@link tlsClientOptions} turns a peer's TLS fields into `tls.connect`
 * options. `@pingora-ts/core` uses both; these are plain data plus callbacks.
 *
 * @example
 * ```ts
 * import { Service, HttpServer } from '@pingora-ts/core';
 * import { TlsSettings } from '@pingora-ts/tls-openssl';
 *
 * const settings = TlsSettings.intermediate('site.pem', 'site.key');
 * settings.setVerify('require').setCaFile('clients-ca.pem'); // mutual TLS
 * service.addTlsWithSettings('0.0.0.0:443', undefined, settings);
 * ```
 */
export { TlsSettings, VerifyMode, DEFAULT_HANDSHAKE_TIMEOUT_MS } from './settings.js';
export type { TlsAccept, CertificateChoice } from './accept.js';
export { ALPN, ALPN_PROTOCOLS, selectAlpn } from './alpn.js';
export type { AlpnChoice } from './alpn.js';
export {
  isCertKey,
  loadCertKey,
  loadCertKeyAsync,
  readPemFile,
  readPemFileAsync,
} from './cert-key.js';
export type { CertKey, Pem } from './cert-key.js';
export {
  INTERMEDIATE_CURVES,
  INTERMEDIATE_PROFILE,
  INTERMEDIATE_TLS12_CIPHERS,
  TLS13_CIPHERSUITES,
} from './profile.js';
export {
  buildSecureContext,
  secureContextOptions,
  sniCallback,
  tlsServerOptions,
  tlsSocketOptions,
} from './server-options.js';
export { acceptTls, TlsHandshake } from './handshake.js';
export type { HandshakeDone } from './handshake.js';
export { attachSslDigest, buildSslDigest, getSslDigest } from './digest.js';
export type { ClientCertificate, SslDigest } from './digest.js';
export { INCOMPLETE, INVALID, MAX_CLIENT_HELLO, parseClientHello, peekClientHello } from './client-hello.js';
export type { ClientHello } from './client-hello.js';
export {
  clientSecureContext,
  isCertVerifyError,
  replaceLeftmostUnderscore,
  tlsClientOptions,
} from './client-options.js';
export type { UpstreamTls } from './client-options.js';
export { joinPem, tlsMaterialDigest } from './material.js';
