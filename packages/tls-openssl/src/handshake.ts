/**
 * The server side of one TLS handshake on an accepted socket: ALPN decided from the ClientHello
 * (Pingora's rules), client certificate policy, the digest, then `handshakeCompleteCallback`.
 * It mirrors what node's `tls.Server` does for each connection, so listeners keep their own
 * accept loop, connection filter and tracking. Timing is the caller's: it calls
 * {@link TlsHandshake.abort} when its handshake timeout fires.
 */
import type * as net from 'node:net';
import * as tls from 'node:tls';
import { ErrorType, PingoraError } from '@pingora-ts/error';
import { selectAlpn } from './alpn.js';
import { type ClientHello, peekClientHello } from './client-hello.js';
import { attachSslDigest, buildSslDigest } from './digest.js';
import { tlsSocketOptions } from './server-options.js';
import type { TlsSettings } from './settings.js';

/** Called once: with the secured socket, or with the error that ended the handshake. */
export type HandshakeDone = (err: PingoraError | undefined, socket: tls.TLSSocket | undefined) => void;

// Internals of node's TLSSocket this file relies on, as node's own tls.Server does: the verify
// result of the client certificate, and handing error reporting over to the socket's user.
interface TlsSocketInternals {
  ssl?: { verifyError?(): (Error & { code?: string }) | null } | null;
  _releaseControl?(): boolean;
}

function noop(): void {}

/**
 * One downstream handshake in progress.
 *
 * @example
 * ```ts
 * const hs = acceptTls(socket, settings, (err, tlsSocket) => {
 *   if (err !== undefined) return logger.debug({ err }, 'TLS handshake failed');
 *   app.processNew(tlsSocket!, shutdown);
 * });
 * const timer = setTimeout(() => hs.abort(timedOut), settings.handshakeTimeout);
 * ```
 */
export class TlsHandshake {
  /** The TLS socket, once created (after the ClientHello was read, when ALPN needs it). */
  tlsSocket: tls.TLSSocket | undefined = undefined;
  #finished = false;

  constructor(
    readonly raw: net.Socket,
    readonly settings: TlsSettings,
    private readonly done: HandshakeDone,
  ) {}

  /** Begins: reads the ClientHello when ALPN must be decided, then runs the handshake. */
  start(): void {
    const mode = this.settings.alpn;
    if (mode === 'h1' || mode === 'h2h1') {
      peekClientHello(this.raw, (hello) => this.#wrap(this.#negotiate(hello)));
    } else {
      this.#wrap(mode !== undefined);
    }
  }

  /** Ends the handshake with `err` (e.g. a timeout) and destroys the connection. No-op once done. */
  abort(err: PingoraError): void {
    this.#fail(err);
  }

  /** Whether the server should answer ALPN at all (false = Pingora's NOACK). */
  #negotiate(hello: ClientHello | undefined): boolean {
    // Unparsed hello or no ALPN extension: offer ours; OpenSSL answers nothing without the extension.
    if (hello?.alpn === undefined) return true;
    const choice = selectAlpn(this.settings.alpn!, hello.alpn);
    return !('error' in choice && choice.error === 'NOACK');
  }

  #wrap(negotiateAlpn: boolean): void {
    if (this.#finished) return;
    if (this.raw.destroyed) {
      this.#fail(this.#error(ErrorType.TLSHandshakeFailure, 'connection closed before the handshake'));
      return;
    }
    let t: tls.TLSSocket;
    try {
      t = new tls.TLSSocket(this.raw, tlsSocketOptions(this.settings, negotiateAlpn));
    } catch (err) {
      this.#fail(this.#error(ErrorType.TLSHandshakeFailure, 'cannot start the handshake', err));
      return;
    }
    this.tlsSocket = t;
    t.on('secure', this.#onSecure);
    t.on('error', this.#onError);
    t.on('_tlsError', this.#onError);
    t.on('close', this.#onClose);
  }

  readonly #onSecure = (): void => {
    const t = this.tlsSocket!;
    const mode = this.settings.verifyMode;
    if (mode !== 'none') {
      const verifyError = (t as tls.TLSSocket & TlsSocketInternals).ssl?.verifyError?.() ?? null;
      const presented = t.getPeerX509Certificate() !== undefined;
      if (verifyError === null && presented) t.authorized = true;
      else t.authorizationError = verifyError ?? new Error('no client certificate');
      // `require`: refuse any failure; `peer`: refuse an invalid certificate, accept none.
      if (verifyError !== null && (mode === 'require' || presented)) {
        const code = verifyError.code ?? verifyError.message;
        this.#fail(this.#error(ErrorType.InvalidCert, `client certificate rejected: ${code}`, verifyError));
        return;
      }
    }
    (t as tls.TLSSocket & TlsSocketInternals)._releaseControl?.();
    // As node's tls.Server does: consumers such as http2 wait for the handshake while it is true.
    (t as tls.TLSSocket & { secureConnecting: boolean }).secureConnecting = false;
    const digest = buildSslDigest(t, mode !== 'none');
    attachSslDigest(t, digest);
    const complete = this.settings.callbacks?.handshakeCompleteCallback;
    if (complete === undefined) {
      this.#succeed();
      return;
    }
    let r: unknown;
    try {
      r = complete.call(this.settings.callbacks, t);
    } catch (err) {
      this.#fail(this.#error(ErrorType.TLSHandshakeFailure, 'handshakeCompleteCallback failed', err));
      return;
    }
    if (r instanceof Promise) {
      r.then(
        (v: unknown) => {
          digest.extension = v;
          this.#succeed();
        },
        (err: unknown) =>
          this.#fail(this.#error(ErrorType.TLSHandshakeFailure, 'handshakeCompleteCallback failed', err)),
      );
    } else {
      digest.extension = r;
      this.#succeed();
    }
  };

  readonly #onError = (err: NodeJS.ErrnoException): void => {
    this.#fail(this.#error(ErrorType.TLSHandshakeFailure, err.code ?? err.message, err));
  };

  readonly #onClose = (): void => {
    this.#fail(this.#error(ErrorType.TLSHandshakeFailure, 'connection closed during the handshake'));
  };

  #error(type: ErrorType, what: string, cause?: unknown): PingoraError {
    const r = this.raw;
    const who = r.remoteAddress === undefined ? 'client' : `${r.remoteAddress}:${r.remotePort}`;
    return PingoraError.create(type, 'Downstream', `TLS handshake with ${who}: ${what}`, cause);
  }

  #detach(): void {
    const t = this.tlsSocket;
    if (t === undefined) return;
    t.off('secure', this.#onSecure);
    t.off('error', this.#onError);
    t.off('_tlsError', this.#onError);
    t.off('close', this.#onClose);
    // The app adds its own handling; until then a late error must not become uncaught.
    t.on('error', noop);
  }

  #succeed(): void {
    if (this.#finished) return;
    const t = this.tlsSocket!;
    if (t.destroyed) {
      this.#fail(this.#error(ErrorType.TLSHandshakeFailure, 'connection closed during the handshake'));
      return;
    }
    this.#finished = true;
    this.#detach();
    this.done(undefined, t);
  }

  #fail(err: PingoraError): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#detach();
    this.tlsSocket?.destroy();
    this.raw.destroy();
    this.done(err, undefined);
  }
}

/**
 * Starts the server side of a TLS handshake on `raw` with `settings`; `done` is called once.
 * Returns the handshake so the caller can {@link TlsHandshake.abort} it (timeout, shutdown).
 */
export function acceptTls(raw: net.Socket, settings: TlsSettings, done: HandshakeDone): TlsHandshake {
  const hs = new TlsHandshake(raw, settings, done);
  hs.start();
  return hs;
}
