/**
 * The Mozilla "intermediate" server profile, version 5 — what Pingora's `TlsSettings::intermediate`
 * gets from rust-openssl's `SslAcceptor::mozilla_intermediate_v5` — as `node:tls` context options.
 * Written out here so the README and the code show the same list.
 */
import type * as tls from 'node:tls';

/** TLS 1.3 cipher suites (OpenSSL's defaults, the ones Mozilla lists), in preference order. */
export const TLS13_CIPHERSUITES: readonly string[] = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
];

/** TLS 1.2 ciphers of Mozilla intermediate v5 (forward secrecy and AEAD only), in preference order. */
export const INTERMEDIATE_TLS12_CIPHERS: readonly string[] = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
  'DHE-RSA-AES128-GCM-SHA256',
  'DHE-RSA-AES256-GCM-SHA384',
];

/** Key-exchange groups, in preference order (Mozilla intermediate: X25519, P-256, P-384). */
export const INTERMEDIATE_CURVES: readonly string[] = ['X25519', 'prime256v1', 'secp384r1'];

/**
 * The profile as `tls.createSecureContext` options: TLS 1.2 and 1.3 only, the ciphers above,
 * the curves above, DHE groups chosen by OpenSSL to match the key size (2048-bit for RSA-2048, as
 * Pingora's fixed ffdhe2048), and the client's cipher preference honoured (Mozilla: every listed
 * cipher is strong, so let clients without AES hardware pick ChaCha20).
 */
export const INTERMEDIATE_PROFILE: Readonly<tls.SecureContextOptions> = Object.freeze({
  minVersion: 'TLSv1.2',
  maxVersion: 'TLSv1.3',
  ciphers: [...TLS13_CIPHERSUITES, ...INTERMEDIATE_TLS12_CIPHERS].join(':'),
  ecdhCurve: INTERMEDIATE_CURVES.join(':'),
  dhparam: 'auto',
  honorCipherOrder: false,
});
