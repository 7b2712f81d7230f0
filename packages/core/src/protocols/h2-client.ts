/**
 * One exchange on an upstream HTTP/2 connection: a stream, driven through the same push-style
 * `UpstreamSession` / `UpstreamResponseHandler` contract as `H1ClientSession`, so the proxy does
 * not care which protocol carries a request. Failures are typed the way Pingora's retry rules
 * need them: a stream the origin refused (REFUSED_STREAM, or above a GOAWAY's last stream id), or
 * one lost to a GOAWAY(NO_ERROR) before any response, is retryable on a fresh connection;
 * HTTP_1_1_REQUIRED is `H2Downgrade`, broken HTTP/2 is `InvalidH2`.
 */
import http2, { type ClientHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import type { Socket } from 'node:net';
import { addAbortSignal } from 'node:stream';
import { ErrorType, isPingoraError, PingoraError } from '@pingora-ts/error';
import {
  H2_RAW_REQUEST_HEADERS,
  type RequestHeader,
  ResponseHeader,
  toH2RequestHeaders,
  toH2RequestRaw,
  toH2Trailers,
  withoutPseudoHeaders,
} from '@pingora-ts/http';
import type { H2ClientConnection } from './h2-connection.js';
import { IoTimers, READ_TIMEOUT, type TimeoutKind, upstreamTimeoutError } from './io-timers.js';
import {
  type BodyMode,
  type ExchangeTimeouts,
  type ExchangeTiming,
  exchangeTiming,
  type UpstreamResponseFacts,
  type UpstreamResponseHandler,
  type UpstreamSession,
} from './upstream-session.js';

const { NGHTTP2_NO_ERROR, NGHTTP2_REFUSED_STREAM, NGHTTP2_HTTP_1_1_REQUIRED, NGHTTP2_FLAG_END_STREAM } =
  http2.constants;

const ABORTED = AbortSignal.abort();

/**
 * RST_STREAM(CANCEL) without ending the request first: `close()` would send END_STREAM before the
 * reset, and a truncated body could look complete. node:http2 resets with CANCEL when a stream is
 * destroyed by an abort signal.
 */
function cancel(stream: ClientHttp2Stream): void {
  if (!stream.destroyed) addAbortSignal(ABORTED, stream);
}

/**
 * An HTTP/2 stream to an origin, used for one exchange. Obtain it from a `Connector` and give it
 * back with `Connector.releaseHttpSession` (the stream slot returns to the connection).
 */
export class H2ClientSession implements UpstreamSession {
  readonly httpVersion = 2 as const;
  private stream: ClientHttp2Stream | undefined;
  private handler: UpstreamResponseHandler | undefined;
  private slotHeld = true;
  private responseStarted = false;
  private responseEnded = false;
  private requestEnded = true;
  private waitForTrailers = false;
  private requestTrailers: Record<string, string | string[]> | undefined;
  private readonly timers: IoTimers;
  private paused = false;
  private streamError: Error | undefined;
  /**
   * The marks of this stream's exchange; `connect`/`tlsHandshake` are set by the connector on the
   * stream that opened the connection and stay 0 on streams of a reused one.
   */
  readonly timing: ExchangeTiming = exchangeTiming();

  constructor(
    /** The connection the stream runs on. */
    readonly connection: H2ClientConnection,
    /** The slot came from a pooled connection. */
    readonly reused: boolean,
  ) {
    this.timers = new IoTimers(this.onTimeout);
  }

  /** The connection's socket. */
  get socket(): Socket {
    return this.connection.socket;
  }

  /** Pool key of the peer. */
  get reuseKey(): string {
    return this.connection.reuseKey;
  }

  /** The stream id once the request was sent. */
  get streamId(): number | undefined {
    return this.stream?.id;
  }

  /**
   * Opens the stream with `req` as HEADERS (`:authority` from Host, connection-specific fields
   * dropped, `te` only as `trailers`). `stream` bodies drop Content-Length. Failures are reported to
   * `handler.onError` asynchronously, never thrown.
   */
  sendRequest(
    req: RequestHeader,
    handler: UpstreamResponseHandler,
    bodyMode: BodyMode,
    timeouts: ExchangeTimeouts,
  ): boolean {
    if (this.handler !== undefined || this.stream !== undefined)
      throw new Error('H2ClientSession: exchange already started');
    this.handler = handler;
    this.timers.timeouts = timeouts;
    const c = this.connection;
    // Node 22.17+/24 take a flat raw array (peers.md §6.2); older ones a header object.
    let headers = (
      H2_RAW_REQUEST_HEADERS ? toH2RequestRaw(req, c.options.scheme, bodyMode === 'stream') : undefined
    ) as http2.OutgoingHttpHeaders | undefined;
    if (headers === undefined) {
      try {
        headers = toH2RequestHeaders(req, { scheme: c.options.scheme }) as http2.OutgoingHttpHeaders;
      } catch (e) {
        this.failLater(
          isPingoraError(e)
            ? e.asUp()
            : PingoraError.because(ErrorType.InvalidHTTPHeader, 'h2 request', e).asUp(),
        );
        return true;
      }
      if (bodyMode === 'stream') delete headers['content-length'];
    }
    // Trailers can only follow a body whose end we control; deciding now costs an empty DATA frame
    // at the end when none come, so plain length-delimited bodies don't wait.
    this.waitForTrailers =
      bodyMode === 'stream' || (bodyMode === 'length' && req.headers.get('trailer') !== undefined);
    this.requestEnded = bodyMode === 'none';
    let stream: ClientHttp2Stream;
    try {
      stream = c.session.request(headers, {
        endStream: bodyMode === 'none',
        waitForTrailers: this.waitForTrailers,
      });
    } catch (e) {
      // The session is closing or went away: nothing was sent, so any request may go elsewhere.
      c.markDraining();
      const err = PingoraError.because(
        ErrorType.H2Error,
        'upstream h2 session cannot open streams',
        e,
      ).asUp();
      this.failLater(err.setRetry(true));
      return true;
    }
    this.stream = stream;
    this.timing.requestSent = performance.now();
    stream.on('error', this.onStreamError);
    // 1xx heads matter only to handlers that take them; 'response', 'end' and 'close' fire once
    // per stream, so on() spares once()'s wrapper.
    if (handler.onInformational !== undefined) stream.on('headers', this.onInformational);
    // 'data' is only listened to once the response head is in (see onResponse).
    stream.on('response', this.onResponse);
    stream.on('trailers', this.onTrailers);
    stream.on('end', this.onEnd);
    stream.on('close', this.onClose);
    if (this.waitForTrailers) stream.once('wantTrailers', this.onWantTrailers);
    this.timers.armRead(!this.paused);
    return true;
  }

  /** Request body bytes; false = wait for {@link onDrain} (flow control or a full buffer). */
  writeBody(chunk: Buffer): boolean {
    const s = this.stream;
    if (s === undefined || this.requestEnded || chunk.length === 0) return true;
    // An origin may rightly say nothing until the whole body is in: while it still goes up, the
    // read wait starts over (a stalled upload is the write timeout's and the client's business).
    this.timers.refreshRead();
    const ok = s.write(chunk);
    if (!ok) this.timers.armWrite(s);
    return ok;
  }

  /** Ends the request body; trailers are sent as a HEADERS frame when the stream waits for them. */
  finishBody(rawTrailers?: readonly string[]): void {
    const s = this.stream;
    if (s === undefined || this.requestEnded) return;
    this.requestEnded = true;
    if (rawTrailers !== undefined && rawTrailers.length > 0 && this.waitForTrailers) {
      this.requestTrailers = toH2Trailers(rawTrailers);
    }
    s.end();
  }

  onDrain(cb: () => void): void {
    if (this.stream !== undefined) this.stream.once('drain', cb);
    else process.nextTick(cb);
  }

  /** Stops reading the response; the stream's flow-control window closes behind it. */
  pauseResponse(): void {
    if (this.paused) return;
    this.paused = true;
    this.stream?.pause();
    this.timers.clearRead();
  }

  resumeResponse(): void {
    if (!this.paused) return;
    this.paused = false;
    this.stream?.resume();
    if (this.handler !== undefined) this.timers.armRead(!this.paused);
  }

  /** Aborts the exchange with RST_STREAM(CANCEL); the connection and its other streams go on. */
  destroy(): void {
    this.handler = undefined;
    this.timers.clear();
    const s = this.stream;
    if (s === undefined) this.freeSlot();
    else cancel(s);
  }

  /**
   * @internal The exchange is over (the connector's release). A stream still sending its body
   * after a complete response is cancelled; a finished one frees its slot at once.
   */
  release(): void {
    const s = this.stream;
    this.handler = undefined;
    this.timers.clear();
    if (s === undefined) {
      this.freeSlot();
      return;
    }
    if (this.responseEnded && this.requestEnded) {
      this.freeSlot();
      return;
    }
    cancel(s);
  }

  // --- stream events ---

  private readonly onStreamError = (err: Error): void => {
    this.streamError ??= err;
  };

  private readonly onInformational = (headers: IncomingHttpHeaders, _flags: number, raw: string[]): void => {
    if (this.timing.firstByte === 0) this.timing.firstByte = performance.now();
    const status = Number(headers[':status']);
    if (status >= 100 && status < 200)
      this.handler?.onInformational?.(ResponseHeader.fromRawNoCase(status, withoutPseudoHeaders(raw), '2'));
  };

  private readonly onResponse = (headers: IncomingHttpHeaders, flags: number, raw: string[]): void => {
    this.timers.refreshRead();
    if (this.timing.firstByte === 0) this.timing.firstByte = performance.now();
    this.responseStarted = true;
    // node:http2 emits 'response' on a later tick but pushes DATA as soon as it parses it. A TLS
    // session that stopped parsing during a write parses the rest when the write completes, with no
    // tick in between: a flowing stream then gave its body before its head (and a downstream written
    // body-first answers a bare 200 that cannot carry trailers). Not flowing until now, the stream
    // keeps such early bytes in its buffer (under flow control) and hands them out after the head.
    this.stream!.on('data', this.onData);
    const cl = headers['content-length'];
    const length = cl === undefined ? -1 : Number(cl);
    const body = (flags & NGHTTP2_FLAG_END_STREAM) !== 0 ? 'none' : length >= 0 ? 'length' : 'stream';
    // One stream, one response: the facts record is made here rather than kept per stream.
    const facts: UpstreamResponseFacts = {
      body,
      contentLength: body === 'length' ? length : -1,
      upgrade: false,
    };
    const resp = ResponseHeader.fromRawNoCase(Number(headers[':status']), withoutPseudoHeaders(raw), '2');
    this.handler?.onResponseHeader(resp, facts);
  };

  private readonly onData = (chunk: Buffer): void => {
    this.timers.refreshRead();
    this.handler?.onResponseBody(chunk);
  };

  private readonly onTrailers = (_h: IncomingHttpHeaders, _flags: number, raw: string[]): void => {
    this.handler?.onResponseTrailers(withoutPseudoHeaders(raw));
  };

  private readonly onEnd = (): void => {
    // A reset stream may still end its readable side: that is not a complete response.
    const code = this.stream!.rstCode;
    if (code !== undefined && code !== NGHTTP2_NO_ERROR) return;
    this.responseEnded = true;
    this.timers.clearRead();
    const handler = this.handler;
    if (handler === undefined) return;
    if (!this.responseStarted) {
      this.fail(
        PingoraError.explain(ErrorType.InvalidH2, 'upstream ended the stream without a response').asUp(),
      );
      return;
    }
    this.handler = undefined;
    handler.onResponseEnd();
  };

  private readonly onWantTrailers = (): void => {
    const s = this.stream!;
    try {
      s.sendTrailers(this.requestTrailers ?? {});
    } catch {
      cancel(s);
    }
  };

  private readonly onClose = (): void => {
    this.timers.clear();
    this.freeSlot();
    if (this.handler !== undefined) this.fail(this.closeError());
  };

  /** Why the stream closed before the response was complete, typed for Pingora's retry rules. */
  private closeError(): PingoraError {
    const s = this.stream!;
    const c = this.connection;
    const code = s.rstCode ?? NGHTTP2_NO_ERROR;
    if (code === NGHTTP2_REFUSED_STREAM) {
      // Refused (also every stream above a GOAWAY's last stream id): never processed, so safe to resend.
      return PingoraError.explain(ErrorType.H2Error, 'upstream refused the stream (REFUSED_STREAM)')
        .asUp()
        .setRetry(true);
    }
    if (code === NGHTTP2_HTTP_1_1_REQUIRED) {
      c.reportPreferH1();
      return PingoraError.explain(ErrorType.H2Downgrade, 'upstream requires HTTP/1.1')
        .asUp()
        .setRetry(c.options.allowH1);
    }
    if (!this.responseStarted && c.goneAwayCleanly) {
      return PingoraError.explain(ErrorType.H2Error, 'upstream sent GOAWAY before responding')
        .asUp()
        .setRetry(true);
    }
    // The session's error reaches its streams before the session's own 'error' event.
    const sessionError = c.sessionError ?? (c.session.destroyed ? this.streamError : undefined);
    if (sessionError !== undefined && !c.connected) {
      c.reportPreferH1();
      return PingoraError.because(ErrorType.InvalidH2, 'upstream h2 handshake failed', sessionError)
        .asUp()
        .setRetry(c.options.allowH1);
    }
    let e: PingoraError;
    if (c.session.destroyed || sessionError !== undefined) {
      e = PingoraError.because(
        ErrorType.ConnectionClosed,
        'upstream h2 connection closed',
        sessionError,
      ).asUp();
    } else {
      e = PingoraError.explain(ErrorType.H2Error, `upstream reset the stream (code ${code})`).asUp();
    }
    // Pingora: an IO error on HTTP/2 is worth one retry when the connection was a reused one.
    if (!this.responseStarted) e.setRetry('ReusedOnly');
    return e;
  }

  private fail(e: PingoraError): void {
    const handler = this.handler;
    this.handler = undefined;
    this.timers.clear();
    if (this.stream !== undefined) cancel(this.stream);
    handler?.onError(e);
  }

  private failLater(e: PingoraError): void {
    // Reported on the next tick, as a socket error would be: the caller is still inside sendRequest.
    process.nextTick(() => {
      this.freeSlot();
      this.fail(e);
    });
  }

  private freeSlot(): void {
    if (!this.slotHeld) return;
    this.slotHeld = false;
    this.connection.slotFreed();
  }

  // While paused the downstream is the slow one, not the origin: no read timeout then.
  private readonly onTimeout = (kind: TimeoutKind): void => {
    if (this.handler === undefined || (kind === READ_TIMEOUT && this.paused)) return;
    this.fail(upstreamTimeoutError(kind, this.timers.timeouts));
  };
}
