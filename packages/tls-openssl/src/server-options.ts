/**
 * The one place where downstream {@link TlsSettings} become `node:tls` options: secure-context
 * options (profile, overrides, CAs, certificate, ticket keys), the per-connection `TLSSocket`
 * options the acceptor uses, and full `tls.TlsOptions` for node's own servers.
 */
import * as tls from 'node:tls';
import { ErrorType, PingoraError } from '@pingora-ts/error';
import type { CertificateChoice } from './accept.js';
import { ALPN_PROTOCOLS } from './alpn.js';
import { type CertKey, isCertKey } from './cert-key.js';
import { INTERMEDIATE_PROFILE } from './profile.js';
import type { TlsSettings } from './settings.js';

/** `tls.createSecureContext` options for `settings` with `certKey` (or none: profile only). */
export function secureContextOptions(settings: TlsSettings, certKey?: CertKey): tls.SecureContextOptions {
  const o: tls.SecureContextOptions = {
    ...INTERMEDIATE_PROFILE,
    ...settings.contextOptions,
    ticketKeys: settings.ticketKeys,
  };
  if (settings.ca !== undefined) o.ca = settings.ca;
  if (certKey !== undefined) {
    o.cert = certKey.cert;
    o.key = certKey.key;
    if (certKey.passphrase !== undefined) o.passphrase = certKey.passphrase;
  }
  return o;
}

/** Builds a context; invalid PEM, a key that does not match, or a bad option is an `InternalError`. */
export function buildSecureContext(settings: TlsSettings, certKey?: CertKey): tls.SecureContext {
  try {
    return tls.createSecureContext(secureContextOptions(settings, certKey));
  } catch (err) {
    throw PingoraError.because(
      ErrorType.InternalError,
      'invalid TLS certificate, key or context options',
      err,
    );
  }
}

function verifyOptions(settings: TlsSettings): { requestCert: boolean; rejectUnauthorized: boolean } {
  // `peer` must not set rejectUnauthorized: node would turn it into FAIL_IF_NO_PEER_CERT. The
  // acceptor refuses an invalid certificate itself in that mode.
  const mode = settings.verifyMode;
  return { requestCert: mode !== 'none', rejectUnauthorized: mode === 'require' };
}

type SniDone = (err: Error | null, ctx?: tls.SecureContext) => void;

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

function deliver(settings: TlsSettings, choice: CertificateChoice, cb: SniDone): void {
  if (choice === undefined || choice === null) {
    cb(null, undefined);
    return;
  }
  let ctx: tls.SecureContext;
  try {
    ctx = isCertKey(choice) ? settings.contextFor(choice) : choice;
  } catch (err) {
    cb(asError(err));
    return;
  }
  cb(null, ctx);
}

/** node's `SNICallback` running `settings.callbacks.certificateCallback` (sync or async). */
export function sniCallback(settings: TlsSettings): ((servername: string, cb: SniDone) => void) | undefined {
  const callbacks = settings.callbacks;
  if (callbacks?.certificateCallback === undefined) return undefined;
  // node calls it as a method of the TLSSocket being accepted.
  return function (this: tls.TLSSocket, servername: string, cb: SniDone): void {
    let r: CertificateChoice | Promise<CertificateChoice>;
    try {
      r = callbacks.certificateCallback!(servername, this);
    } catch (err) {
      cb(asError(err));
      return;
    }
    if (r instanceof Promise) {
      r.then(
        (choice) => deliver(settings, choice, cb),
        (err: unknown) => cb(asError(err)),
      );
    } else {
      deliver(settings, r, cb);
    }
  };
}

interface SocketOptionCache {
  generation: number;
  withAlpn: tls.TLSSocketOptions | undefined;
  withoutAlpn: tls.TLSSocketOptions | undefined;
}
const socketOptionCache = new WeakMap<TlsSettings, SocketOptionCache>();

/**
 * Options for `new tls.TLSSocket(accepted, options)` on the server side. `negotiateAlpn` false
 * makes the server answer without ALPN (Pingora's `NOACK`). The object is cached per settings
 * generation: handshakes do not rebuild it.
 */
export function tlsSocketOptions(
  settings: TlsSettings,
  negotiateAlpn: boolean = settings.alpn !== undefined,
): tls.TLSSocketOptions {
  let c = socketOptionCache.get(settings);
  if (c === undefined || c.generation !== settings.generation) {
    c = { generation: settings.generation, withAlpn: undefined, withoutAlpn: undefined };
    socketOptionCache.set(settings, c);
  }
  const alpn = negotiateAlpn && settings.alpn !== undefined;
  let o = alpn ? c.withAlpn : c.withoutAlpn;
  if (o === undefined) {
    o = { isServer: true, secureContext: settings.secureContext(), ...verifyOptions(settings) };
    const sni = sniCallback(settings);
    if (sni !== undefined) o.SNICallback = sni;
    if (alpn) o.ALPNProtocols = [...ALPN_PROTOCOLS[settings.alpn!]];
    if (alpn) c.withAlpn = o;
    else c.withoutAlpn = o;
  }
  return o;
}

/**
 * `settings` as options for node's own `tls.createServer` / `https.createServer`, for code that
 * runs a node server with the same configuration. Node's servers apply their own ALPN rule (a
 * fatal alert when nothing matches) and call `certificateCallback` the same way.
 *
 * @example
 * ```ts
 * const server = https.createServer(tlsServerOptions(TlsSettings.intermediate(cert, key)), handler);
 * ```
 */
export function tlsServerOptions(settings: TlsSettings): tls.TlsOptions {
  const o: tls.TlsOptions = {
    ...secureContextOptions(settings, settings.certKey),
    ...verifyOptions(settings),
    handshakeTimeout: settings.handshakeTimeout,
  };
  if (settings.alpn !== undefined) o.ALPNProtocols = [...ALPN_PROTOCOLS[settings.alpn]];
  const sni = sniCallback(settings);
  if (sni !== undefined) o.SNICallback = sni;
  return o;
}
