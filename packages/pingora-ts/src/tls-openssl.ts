/**
 * @module pingora-ts/tls-openssl
 *
 * Everything from `@pingora-ts/tls-openssl`: TLS for pingora-ts on node:tls (OpenSSL): Mozilla intermediate profile, SNI certificate callbacks, ALPN, mutual TLS, certificate reload, upstream TLS options.
 * Generated from members.json by `pnpm gen:meta`; do not edit.
 */
export * from '@pingora-ts/tls-openssl';
