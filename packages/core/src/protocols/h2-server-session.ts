/**
 * The downstream HTTP/2 session: one `HttpServerSession` per stream, on node:http2's core
 * stream API (the compat req/res layer costs ~1.6× and hides flow control). The request header
 * is built from the stream's flat raw header array only when asked for; the response goes out
 * through `stream.respond`. Errors stay on the stream (RST_STREAM), never the connection.
 */
import http2, { type ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import { addAbortSignal } from 'node:stream';
import type { PingoraError } from '@pingora-ts/error';
import {
  H2_RAW_RESPONSE_HEADERS,
  type RequestHeader,
  requestFromH2,
  type ResponseHeader,
  toH2ResponseHeaders,
  toH2ResponseRaw,
  toH2Trailers,
} from '@pingora-ts/http';
import { getSslDigest } from '@pingora-ts/tls-openssl';
import type { H2RequestScan } from './h2-request-fields.js';
import { IoTimers, NO_TIMEOUTS, READ_TIMEOUT, type TimeoutKind } from './io-timers.js';
import type {
  Digest,
  HttpServerSession,
  RequestBodyReader,
  RequestBodySink,
  SessionTiming,
  SocketAddr,
} from './server-session.js';
import {
  bodyLength,
  cannedErrorHeader,
  drainBody,
  earlyHintsFields,
  localAddr,
  readBodyChunk,
  readTimedout,
  remoteAddr,
  writeTimedout,
  writeWaitMs,
} from './server-session-io.js';

const { NGHTTP2_INTERNAL_ERROR, NGHTTP2_NO_ERROR } = http2.constants;

const ABORTED = AbortSignal.abort();

// Node ends a server stream's readable side when the client resets it: only a stream that was not
// reset really ended its body.
function truncated(stream: ServerHttp2Stream): boolean {
  const code = stream.rstCode;
  return code !== undefined && code !== NGHTTP2_NO_ERROR;
}

// How a pulled request body ended: complete unless the client reset the stream.
function bodyOutcome(stream: ServerHttp2Stream, closed: boolean): Error | undefined {
  const complete = closed ? stream.readableEnded && !truncated(stream) : !truncated(stream);
  return complete ? undefined : streamGone(stream);
}

/** The connection a stream belongs to, shared by its sessions. */
export interface H2DownstreamConnection {
  readonly socket: Socket;
  /** Streams open on the connection right now. */
  active: number;
}

function responseMayHaveTrailers(resp: ResponseHeader): boolean {
  if (resp.headers.get('trailer') !== undefined) return true;
  const ct = resp.headers.get('content-type');
  return ct?.startsWith('application/grpc') === true;
}

/**
 * One HTTP/2 request/response (a stream). Created by `HttpServer` for each stream of an h2 or h2c
 * connection; apps and the proxy see it as an `HttpServerSession`.
 */
export class H2ServerSession implements HttpServerSession {
  readonly httpVersion = 2 as const;
  readonly timing: SessionTiming = { start: performance.now(), responseHeaderSent: 0, end: 0 };
  readonly hasRequestBody: boolean;
  bodyBytesRead = 0;
  bodyBytesSent = 0;
  responseFinished = false;

  private header: RequestHeader | undefined;
  private written: ResponseHeader | undefined;
  private sink: RequestBodySink | undefined;
  private bodyStarted = false;
  private continueSent = false;
  private requestTrailers: string[] | undefined;
  private responseTrailers: Record<string, string | string[]> | undefined;
  private waitForTrailers = false;
  private discardBody = false;
  private goneCallbacks: Array<(reason: PingoraError | undefined) => void> | undefined;
  // Per-request controls: none on the common path (no timers object, nothing per chunk).
  private timers: IoTimers | undefined;
  private minSendRate: number | undefined;
  private bodyReader: RequestBodyReader | undefined;
  private goneReason: PingoraError | undefined;

  /**
   * @param stream the request's stream (an 'error' guard must already be attached)
   * @param rawHeaders the stream's flat raw header array, pseudo-headers included
   * @param scan what {@link scanRequestFields} found in `rawHeaders`
   */
  constructor(
    readonly stream: ServerHttp2Stream,
    readonly rawHeaders: string[],
    readonly scan: H2RequestScan,
    readonly connection: H2DownstreamConnection,
  ) {
    this.hasRequestBody = !stream.endAfterHeaders;
    if (this.hasRequestBody) stream.on('trailers', this.onRequestTrailers);
    // 'close' fires once per stream: on() spares the once() wrapper on the hot path.
    stream.on('close', this.onClose);
  }

  reqHeader(): RequestHeader {
    let h = this.header;
    if (h === undefined) this.header = h = requestFromH2(this.rawHeaders);
    return h;
  }

  getHeader(name: string): string | undefined {
    return this.reqHeader().headers.get(name);
  }

  clientAddr(): SocketAddr | undefined {
    return remoteAddr(this.connection.socket);
  }

  serverAddr(): SocketAddr | undefined {
    return localAddr(this.connection.socket);
  }

  digest(): Digest {
    return { sslDigest: getSslDigest(this.connection.socket) };
  }

  isUpgradeReq(): boolean {
    return false;
  }

  // --- request body ---

  readRequestBody(): Promise<Buffer | undefined> {
    const reader = this.bodyReader;
    if (reader !== undefined) return reader.readRequestBody();
    return readBodyChunk(this, this.stream, bodyOutcome, false);
  }

  setRequestBodyReader(reader: RequestBodyReader | undefined): void {
    this.bodyReader = reader;
  }

  pumpRequestBody(sink: RequestBodySink): void {
    this.writeContinueResponse();
    this.sink = sink;
    const stream = this.stream;
    if (stream.readableEnded || !this.hasRequestBody) {
      sink.onRequestBodyEnd(this.requestTrailers);
      return;
    }
    if (this.bodyStarted) return;
    this.bodyStarted = true;
    stream.on('data', this.onReqData);
    stream.on('end', this.onReqEnd);
    stream.on('close', this.onReqClose);
    this.timers?.armRead(true);
  }

  private readonly onRequestTrailers = (_h: unknown, _flags: number, raw: string[]): void => {
    this.requestTrailers = raw;
  };

  private readonly onReqData = (chunk: Buffer): void => {
    if (this.discardBody) return;
    this.timers?.refreshRead();
    this.bodyBytesRead += chunk.length;
    this.sink?.onRequestBody(chunk);
  };

  private readonly onReqEnd = (): void => {
    this.timers?.clearRead();
    const sink = this.sink;
    this.sink = undefined;
    if (truncated(this.stream)) sink?.onRequestBodyError(streamGone(this.stream));
    else sink?.onRequestBodyEnd(this.requestTrailers);
  };

  private readonly onReqClose = (): void => {
    const sink = this.sink;
    if (sink === undefined || (this.stream.readableEnded && !truncated(this.stream))) return;
    this.sink = undefined;
    sink.onRequestBodyError(streamGone(this.stream));
  };

  pauseRequestBody(): void {
    // Once the response is complete the rest of the body is drained, not held: a paused stream
    // would keep its flow-control window and its slot on the connection forever.
    if (this.discardBody) return;
    this.stream.pause();
    this.timers?.clearRead();
  }

  resumeRequestBody(): void {
    this.stream.resume();
    this.armReadTimeout();
  }

  private armReadTimeout(): void {
    this.timers?.armRead(this.bodyStarted && !this.stream.readableEnded && !this.discardBody);
  }

  drainRequestBody(): Promise<void> {
    const reader = this.bodyReader;
    return reader !== undefined ? reader.drainRequestBody() : drainBody(this);
  }

  // --- per-request controls (HTTP/2 has no server-wide read/write timeout: these are opt-in) ---

  private timersFor(): IoTimers {
    let t = this.timers;
    if (t === undefined) this.timers = t = new IoTimers((kind) => this.onTimeout(kind), NO_TIMEOUTS);
    return t;
  }

  setReadTimeout(ms: number | undefined): void {
    const t = this.timersFor();
    t.timeouts = { readTimeout: ms, writeTimeout: t.timeouts.writeTimeout };
    if (this.sink !== undefined && !this.stream.isPaused()) this.armReadTimeout();
  }

  getReadTimeout(): number | undefined {
    return this.timers?.timeouts.readTimeout;
  }

  setWriteTimeout(ms: number | undefined): void {
    const t = this.timersFor();
    t.timeouts = { readTimeout: t.timeouts.readTimeout, writeTimeout: ms };
  }

  setMinSendRate(bytesPerSecond: number | undefined): void {
    this.timersFor();
    this.minSendRate = bytesPerSecond !== undefined && bytesPerSecond > 0 ? bytesPerSecond : undefined;
  }

  /** No-op: an HTTP/2 stream's unread body is discarded and the connection goes on regardless. */
  setCloseOnResponseBeforeDownstreamFinish(_close: boolean): void {}

  /** No-op: draining a stream's body holds no connection (see {@link setCloseOnResponseBeforeDownstreamFinish}). */
  setTotalDrainTimeout(_ms: number | undefined): void {}

  private onTimeout(kind: TimeoutKind): void {
    if (kind === READ_TIMEOUT) {
      const sink = this.sink;
      this.sink = undefined;
      sink?.onRequestBodyError(readTimedout(this.timers?.timeouts.readTimeout));
      return;
    }
    // Only this stream is cut (RST_STREAM CANCEL): the connection's other streams are not slow.
    // Its 'close' tells the waiters why.
    this.goneReason = writeTimedout(this.minSendRate, this.timers?.timeouts.writeTimeout);
    if (!this.stream.destroyed) addAbortSignal(ABORTED, this.stream);
  }

  writeContinueResponse(): void {
    if (!this.scan.expectContinue || this.continueSent || this.written !== undefined) return;
    this.continueSent = true;
    if (!this.stream.destroyed) this.stream.additionalHeaders({ ':status': 100 });
  }

  writeInformationalResponse(resp: ResponseHeader): void {
    if (this.written !== undefined || this.stream.destroyed || this.stream.headersSent) return;
    const hints = earlyHintsFields(resp);
    if (hints !== undefined) this.stream.additionalHeaders({ ...hints, ':status': 103 });
  }

  // --- response ---

  writeResponseHeader(resp: ResponseHeader, endOfStream = false): void {
    const stream = this.stream;
    this.written = resp;
    this.timing.responseHeaderSent = performance.now();
    if (stream.destroyed || stream.headersSent) {
      if (endOfStream) this.markFinished();
      return;
    }
    // Node 22.20+/24 take a flat raw array (peers.md §6.2); older ones a header object.
    const headers = ((H2_RAW_RESPONSE_HEADERS ? toH2ResponseRaw(resp) : undefined) ??
      toH2ResponseHeaders(resp)) as http2.OutgoingHttpHeaders;
    if (endOfStream) {
      stream.respond(headers, { endStream: true });
      this.markFinished();
      return;
    }
    // Whether trailers can follow must be decided now; waiting for them costs an empty DATA frame
    // when none come, so only responses that may carry them wait.
    if (this.scan.teTrailers || responseMayHaveTrailers(resp)) {
      this.waitForTrailers = true;
      stream.once('wantTrailers', this.onWantTrailers);
      stream.respond(headers, { waitForTrailers: true });
    } else {
      stream.respond(headers);
    }
  }

  writeResponseBody(chunk: Buffer | undefined, endOfStream: boolean): boolean {
    let ok = true;
    const stream = this.stream;
    if (chunk !== undefined && chunk.length > 0 && !stream.writableEnded) {
      this.bodyBytesSent += chunk.length;
      ok = stream.write(chunk);
      if (!ok && this.timers !== undefined) {
        const ms = writeWaitMs(this.minSendRate, stream.writableLength, this.timers.timeouts.writeTimeout);
        this.timers.armWrite(stream, ms);
      }
    }
    if (endOfStream) this.end();
    return ok;
  }

  writeResponseTrailers(rawTrailers: string[]): void {
    if (rawTrailers.length > 0 && this.waitForTrailers) this.responseTrailers = toH2Trailers(rawTrailers);
    this.end();
  }

  private readonly onWantTrailers = (): void => {
    try {
      this.stream.sendTrailers(this.responseTrailers ?? {});
    } catch {
      this.stream.close(NGHTTP2_INTERNAL_ERROR);
    }
  };

  onResponseDrain(cb: () => void): void {
    this.stream.once('drain', cb);
  }

  responseWritten(): ResponseHeader | undefined {
    return this.written;
  }

  respondError(status: number): void {
    this.respondErrorWithBody(status, '');
  }

  respondErrorWithBody(status: number, body: Buffer | string): void {
    if (this.written !== undefined || this.responseFinished) return;
    const len = bodyLength(body);
    this.written = cannedErrorHeader(status, len);
    this.timing.responseHeaderSent = performance.now();
    const stream = this.stream;
    if (!stream.destroyed && !stream.headersSent) {
      const headers: http2.OutgoingHttpHeaders = {
        ':status': status,
        server: 'Pingora',
        'content-length': len,
        'cache-control': 'private, no-store',
      };
      stream.respond(headers, { endStream: len === 0 });
      this.bodyBytesSent += len;
      if (len > 0) stream.end(body);
    }
    this.markFinished();
  }

  /** HTTP/2 has no per-request keep-alive: the connection stays up whatever the answer. */
  setKeepalive(_seconds: number | undefined): void {}

  onClientGone(cb: (reason: PingoraError | undefined) => void): void {
    if (this.goneCallbacks === undefined) this.goneCallbacks = [cb];
    else this.goneCallbacks.push(cb);
  }

  /**
   * Resets this stream only (RST_STREAM CANCEL with `cancel`, else INTERNAL_ERROR); the connection
   * and its other streams go on.
   */
  abort(cancel = false): void {
    // destroy(), not close(): close() ends the writable side first, and an END_STREAM before the
    // reset would make a truncated response look complete. node:http2 picks CANCEL only for a
    // stream destroyed by an abort signal.
    const stream = this.stream;
    if (!stream.destroyed) {
      if (cancel) addAbortSignal(ABORTED, stream);
      else stream.destroy(new Error('response aborted'));
    }
    this.markFinished();
  }

  takeUpgradeSocket(): undefined {
    return undefined;
  }

  private end(): void {
    if (this.responseFinished) return;
    const stream = this.stream;
    if (!stream.writableEnded && !stream.destroyed) stream.end();
    this.markFinished();
  }

  private markFinished(): void {
    if (this.responseFinished) return;
    this.responseFinished = true;
    this.timing.end = performance.now();
    const stream = this.stream;
    if (this.hasRequestBody && !stream.readableEnded && !stream.destroyed) {
      this.discardBody = true;
      this.timers?.clearRead();
      stream.resume();
    }
  }

  private readonly onClose = (): void => {
    this.connection.active--;
    this.timers?.clear();
    const cbs = this.goneCallbacks;
    if (cbs === undefined || this.responseFinished) return;
    this.goneCallbacks = undefined;
    for (const cb of cbs) cb(this.goneReason);
  };
}

function streamGone(stream: ServerHttp2Stream): Error {
  const code = stream.rstCode;
  return new Error(
    `client reset the stream before the request body was complete${code ? ` (code ${code})` : ''}`,
  );
}
