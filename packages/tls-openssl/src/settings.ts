/**
 * `TlsSettings`: the downstream TLS configuration of a listener (Pingora's `TlsSettings`). Plain
 * data plus callbacks; server-options.ts turns it into `node:tls` options. Changing the
 * certificate (`setCertificate`, `reload`) affects new handshakes only: a connection keeps the
 * context it was accepted with.
 */
import { randomBytes } from 'node:crypto';
import type * as tls from 'node:tls';
import { ErrorType, PingoraError } from '@pingora-ts/error';
import type { TlsAccept } from './accept.js';
import type { ALPN } from './alpn.js';
import { type CertKey, loadCertKey, loadCertKeyAsync, type Pem, readPemFile } from './cert-key.js';
import { buildSecureContext } from './server-options.js';

/**
 * Client certificate policy (OpenSSL's `SslVerifyMode`): `none`; `peer` — ask for a certificate and
 * refuse an invalid one, accept clients without one (`PEER`); `require` — refuse clients without a
 * valid certificate (`PEER | FAIL_IF_NO_PEER_CERT`).
 */
export type VerifyMode = 'none' | 'peer' | 'require';

/** Named constants for {@link VerifyMode}. */
export const VerifyMode = { NONE: 'none', PEER: 'peer', REQUIRE: 'require' } as const satisfies Record<
  string,
  VerifyMode
>;

/** Pingora's accept handshake timeout. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 60_000;

/**
 * Downstream TLS settings: certificate, profile, ALPN, client certificates, callbacks.
 *
 * @example
 * ```ts
 * const tls = TlsSettings.intermediate('/etc/ssl/site.pem', '/etc/ssl/site.key');
 * tls.enableH2();
 * service.addTlsWithSettings('0.0.0.0:443', undefined, tls);
 * process.on('SIGHUP', () => void tls.reload()); // new handshakes get the new certificate
 * ```
 */
export class TlsSettings {
  #certKey: CertKey | undefined;
  #files: { readonly cert: string; readonly key: string } | undefined;
  #callbacks: TlsAccept | undefined;
  #alpn: ALPN | undefined;
  #verify: VerifyMode = 'none';
  #ca: Pem | undefined;
  #overrides: Readonly<tls.SecureContextOptions> = {};
  #handshakeTimeout = DEFAULT_HANDSHAKE_TIMEOUT_MS;
  // One set of session-ticket keys for every context of these settings, so resumption survives
  // certificate reloads and works across SNI certificates.
  readonly #ticketKeys = randomBytes(48);
  #context: tls.SecureContext | undefined;
  #perCertKey = new WeakMap<CertKey, tls.SecureContext>();
  #generation = 0;

  private constructor() {}

  /**
   * Mozilla intermediate profile with the certificate chain at `certPath` (leaf first) and the key
   * at `keyPath` (Pingora's `TlsSettings::intermediate`). Reads the files now; throws a
   * `FileReadError`, or an `InternalError` when the PEM is invalid or the key does not match.
   */
  static intermediate(certPath: string, keyPath: string): TlsSettings {
    const s = new TlsSettings();
    s.#files = { cert: certPath, key: keyPath };
    s.setCertificate(loadCertKey(certPath, keyPath));
    return s;
  }

  /** Mozilla intermediate profile with a certificate chain and key given as PEM data. */
  static fromPem(cert: Pem, key: string | Buffer, passphrase?: string): TlsSettings {
    const s = new TlsSettings();
    s.setCertificate(passphrase === undefined ? { cert, key } : { cert, key, passphrase });
    return s;
  }

  /**
   * Certificates chosen per connection by `callbacks.certificateCallback` (Pingora's
   * `TlsSettings::with_callbacks`). Add a default certificate for clients without SNI with
   * {@link TlsSettings.setCertificate}.
   */
  static withCallbacks(callbacks: TlsAccept): TlsSettings {
    const s = new TlsSettings();
    s.#callbacks = callbacks;
    s.#rebuild();
    return s;
  }

  /** Offer HTTP/2 and HTTP/1.1, preferring h2 (Pingora's `enable_h2`, i.e. `setAlpn('h2h1')`). */
  enableH2(): this {
    return this.setAlpn('h2h1');
  }

  /**
   * ALPN policy (Pingora's `set_alpn`): `h1`, `h2` (h2 only: other offers get a fatal alert) or
   * `h2h1`. With `h1`/`h2h1` a client offering nothing known gets no ALPN answer and falls back
   * to HTTP/1.1. `undefined` (the default) never answers ALPN: HTTP/1.1 only.
   */
  setAlpn(alpn: ALPN | undefined): this {
    this.#alpn = alpn;
    this.#generation++;
    return this;
  }

  /** Client certificate policy; combine with {@link TlsSettings.setCa} to say which CAs are trusted. */
  setVerify(mode: VerifyMode): this {
    this.#verify = mode;
    this.#generation++;
    return this;
  }

  /** CAs that client certificates must chain to (PEM). Without it: Node's bundled Mozilla roots. */
  setCa(ca: Pem | undefined): this {
    const prev = this.#ca;
    this.#ca = ca;
    this.#rebuild(() => {
      this.#ca = prev;
    });
    return this;
  }

  /** {@link TlsSettings.setCa} from a PEM file (Pingora's `set_ca_file`). */
  setCaFile(path: string): this {
    return this.setCa(readPemFile(path));
  }

  /**
   * Replace the default certificate. The new context is built first: on invalid PEM this throws
   * and the current certificate stays in use. Open connections keep their certificate.
   */
  setCertificate(certKey: CertKey): this {
    const ctx = buildSecureContext(this, certKey);
    this.#certKey = certKey;
    this.#context = ctx;
    this.#generation++;
    return this;
  }

  /**
   * Re-read the files given to {@link TlsSettings.intermediate} (without blocking) and use them
   * for new handshakes. On failure (unreadable, invalid, mismatched) the previous certificate
   * stays in use and the promise rejects.
   */
  async reload(): Promise<void> {
    const files = this.#files;
    if (files === undefined) {
      throw PingoraError.explain(ErrorType.InternalError, 'TlsSettings.reload(): not created from files');
    }
    this.setCertificate(await loadCertKeyAsync(files.cert, files.key));
  }

  /**
   * Override `tls.createSecureContext` options of the profile (ciphers, `ecdhCurve`, `minVersion`,
   * `sigalgs`, `sessionTimeout`…): Pingora exposes the `SslAcceptorBuilder` for the same purpose.
   */
  setContextOptions(options: tls.SecureContextOptions): this {
    const prev = this.#overrides;
    this.#overrides = { ...options };
    this.#rebuild(() => {
      this.#overrides = prev;
    });
    return this;
  }

  /** Time allowed from accept to a completed handshake, ms. Default 60 000 (Pingora's). */
  setHandshakeTimeout(ms: number): this {
    this.#handshakeTimeout = ms;
    return this;
  }

  /** The ALPN policy; `undefined` = HTTP/1.1 without ALPN. */
  get alpn(): ALPN | undefined {
    return this.#alpn;
  }
  /** The client certificate policy. */
  get verifyMode(): VerifyMode {
    return this.#verify;
  }
  /** Trusted CAs for client certificates. */
  get ca(): Pem | undefined {
    return this.#ca;
  }
  /** The default certificate and key. */
  get certKey(): CertKey | undefined {
    return this.#certKey;
  }
  /** The callbacks given to {@link TlsSettings.withCallbacks}. */
  get callbacks(): TlsAccept | undefined {
    return this.#callbacks;
  }
  /** Handshake timeout, ms. */
  get handshakeTimeout(): number {
    return this.#handshakeTimeout;
  }
  /** Profile overrides given to {@link TlsSettings.setContextOptions}. */
  get contextOptions(): Readonly<tls.SecureContextOptions> {
    return this.#overrides;
  }
  /** Session-ticket keys shared by every context of these settings. */
  get ticketKeys(): Buffer {
    return this.#ticketKeys;
  }
  /** Increases on every change; caches of derived options compare it. */
  get generation(): number {
    return this.#generation;
  }

  /** The context new handshakes start with (the default certificate, if any). */
  secureContext(): tls.SecureContext {
    if (this.#context === undefined) this.#context = buildSecureContext(this, this.#certKey);
    return this.#context;
  }

  /**
   * A context with this profile (ciphers, CAs, ticket keys) for another certificate: what a
   * `certificateCallback` should return, built once and cached by the caller.
   */
  createSecureContext(certKey: CertKey): tls.SecureContext {
    return buildSecureContext(this, certKey);
  }

  /** @internal The context for a `CertKey` a callback returned, cached per object. */
  contextFor(certKey: CertKey): tls.SecureContext {
    let ctx = this.#perCertKey.get(certKey);
    if (ctx === undefined) {
      ctx = buildSecureContext(this, certKey);
      this.#perCertKey.set(certKey, ctx);
    }
    return ctx;
  }

  // The profile changed: contexts are rebuilt now, so an invalid option throws here (after
  // `revert` restored the previous settings, which stay in use).
  #rebuild(revert?: () => void): void {
    try {
      this.#context = buildSecureContext(this, this.#certKey);
    } catch (err) {
      revert?.();
      throw err;
    }
    this.#perCertKey = new WeakMap();
    this.#generation++;
  }
}
