/**
 * The downstream HTTP/1.x session of the raw-socket engine (`h1Engine: 'pingora'`, the default):
 * one request parsed by `H1RequestParser` and its response, written straight to the `net.Socket`
 * with framing decided here (h1-raw-framing.ts). The connection (h1-raw-connection.ts) owns the
 * socket between requests; this object lives for one request.
 */
import type { Socket } from 'node:net';
import type { PingoraError } from '@pingora-ts/error';
import { RequestHeader, type ResponseHeader } from '@pingora-ts/http';
import { getSslDigest } from '@pingora-ts/tls-openssl';
import type { H1SessionOptions } from './h1-server-session.js';
import { RawBody } from './h1-raw-body.js';
import {
  FRAMING_CHUNKED,
  FRAMING_CLOSE,
  FRAMING_NONE,
  type Framing,
  type FramingInput,
  frameResponse,
  h1ResponseHead,
  lastChunk,
  writeFramed,
} from './h1-raw-framing.js';
import { IoTimers, READ_TIMEOUT, type TimeoutKind } from './io-timers.js';
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
  DEFAULT_TOTAL_DRAIN_TIMEOUT,
  drainBody,
  localAddr,
  readTimedout,
  writeTimedout,
  writeWaitMs,
} from './server-session-io.js';

/** What a session needs from its connection. */
export interface RawSessionOwner {
  readonly socket: Socket;
  readonly options: H1SessionOptions;
  /** The server's keep-alive idle timeout, ms (0: none). */
  readonly keepaliveMs: number;
  /** The request's own framing and the server allow another request after this one. */
  keepAliveAllowed(session: H1RawSession): boolean;
  /** The request's body was fully received. */
  requestComplete(session: H1RawSession): boolean;
  /** The response is complete; `keepAlive` says whether the connection serves another request. */
  responseDone(
    session: H1RawSession,
    keepAlive: boolean,
    keepaliveMs: number,
    drainMs: number | undefined,
  ): void;
  /** Body chunks were taken: reading may go on. */
  bodyWanted(): void;
  /** The client's address, the same for every request of the connection. */
  clientAddr(): SocketAddr | undefined;
}

/** The request line and fields as the parser gave them (after target fix-ups). */
export interface RawRequestHead {
  method: string;
  url: string;
  minorVersion: number;
  rawHeaders: string[];
}

const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';

const FRAMING_SCRATCH: FramingInput = {
  head: false,
  http11: true,
  keepAlive: true,
  keepaliveMs: 0,
  knownLength: -1,
  framing: FRAMING_NONE,
};

/** An HTTP/1.x request/response on a raw socket. Created by the raw connection; apps receive it. */
export class H1RawSession implements HttpServerSession {
  readonly httpVersion = 1 as const;
  readonly timing: SessionTiming = { start: performance.now(), responseHeaderSent: 0, end: 0 };
  readonly body: RawBody;
  bodyBytesSent = 0;
  responseFinished = false;

  private header: RequestHeader | undefined = undefined;
  private written: ResponseHeader | undefined = undefined;
  private pendingHead: string | undefined = undefined;
  private framing: Framing = FRAMING_NONE;
  private keepAlive = true;
  private keepaliveMs: number;
  private keepaliveOff = false;
  private continueSent = false;
  private goneCallbacks: Array<(reason: PingoraError | undefined) => void> | undefined = undefined;
  private goneReason: PingoraError | undefined = undefined;
  // Made on first use (a body read, a blocked write, a timeout setter): most requests need none.
  private ioTimers: IoTimers | undefined = undefined;
  private minSendRate: number | undefined = undefined;
  private closeOnEarlyResponse = false;
  private drainTimeout: number | undefined = DEFAULT_TOTAL_DRAIN_TIMEOUT;
  private bodyReader: RequestBodyReader | undefined = undefined;
  private bodyStarted = false;
  // The connection answered this request itself (408, a refusal): an abort must not cut its linger.
  private answeredByConnection = false;

  constructor(
    private readonly owner: RawSessionOwner,
    readonly req: RawRequestHead,
    readonly hasRequestBody: boolean,
    readonly expectContinue: boolean,
    private readonly upgrade: { socket: Socket; head: Buffer } | undefined,
  ) {
    this.body = new RawBody(owner);
    this.keepaliveMs = owner.keepaliveMs;
  }

  private get timers(): IoTimers {
    let t = this.ioTimers;
    if (t === undefined) this.ioTimers = t = new IoTimers((kind) => this.onTimeout(kind), this.owner.options);
    return t;
  }

  get bodyBytesRead(): number {
    return this.body.consumed;
  }

  reqHeader(): RequestHeader {
    let h = this.header;
    if (h === undefined) {
      const r = this.req;
      this.header = h = RequestHeader.fromRaw(
        r.method,
        r.url,
        r.rawHeaders,
        r.minorVersion === 0 ? '1.0' : '1.1',
      );
    }
    return h;
  }

  getHeader(name: string): string | undefined {
    return this.reqHeader().headers.get(name);
  }

  clientAddr(): SocketAddr | undefined {
    return this.owner.clientAddr();
  }

  serverAddr(): SocketAddr | undefined {
    return localAddr(this.owner.socket);
  }

  digest(): Digest {
    return { sslDigest: getSslDigest(this.owner.socket) };
  }

  isUpgradeReq(): boolean {
    return this.upgrade !== undefined;
  }

  takeUpgradeSocket(): { socket: Socket; head: Buffer } | undefined {
    return this.upgrade;
  }

  // --- request body ---

  readRequestBody(): Promise<Buffer | undefined> {
    const reader = this.bodyReader;
    if (reader !== undefined) return reader.readRequestBody();
    this.writeContinueResponse();
    // An upgrade's body stays on the socket handed over by takeUpgradeSocket().
    if (!this.hasRequestBody || this.upgrade !== undefined) return Promise.resolve(undefined);
    this.startBody();
    return this.body.read();
  }

  setRequestBodyReader(reader: RequestBodyReader | undefined): void {
    this.bodyReader = reader;
  }

  pumpRequestBody(sink: RequestBodySink): void {
    this.writeContinueResponse();
    if (!this.hasRequestBody || this.upgrade !== undefined) {
      sink.onRequestBodyEnd(undefined);
      return;
    }
    this.startBody();
    this.body.pump(sink);
  }

  pauseRequestBody(): void {
    if (this.body.discarding) return;
    this.body.pause();
    this.ioTimers?.clearRead();
  }

  resumeRequestBody(): void {
    this.body.resume();
    this.armReadTimeout();
  }

  drainRequestBody(): Promise<void> {
    const reader = this.bodyReader;
    return reader !== undefined ? reader.drainRequestBody() : drainBody(this);
  }

  /** @internal From the connection: a body chunk (timers see activity). */
  onBodyChunk(chunk: Buffer): void {
    this.ioTimers?.refreshRead();
    this.body.push(chunk);
  }

  /** @internal From the connection: the body is complete. */
  onBodyEnd(trailers: string[] | undefined): void {
    this.ioTimers?.clearRead();
    this.body.end(trailers);
  }

  private startBody(): void {
    if (this.bodyStarted) return;
    this.bodyStarted = true;
    this.armReadTimeout();
  }

  private armReadTimeout(): void {
    this.timers.armRead(this.bodyStarted && !this.body.done && !this.body.isPaused);
  }

  private onTimeout(kind: TimeoutKind): void {
    if (kind === READ_TIMEOUT) {
      this.body.fail(readTimedout(this.timers.timeouts.readTimeout));
      return;
    }
    this.goneReason = writeTimedout(this.minSendRate, this.timers.timeouts.writeTimeout);
    this.owner.socket.destroy();
    this.markFinished();
  }

  writeContinueResponse(): void {
    if (!this.expectContinue || this.continueSent || this.written !== undefined || this.responseFinished)
      return;
    this.continueSent = true;
    this.owner.socket.write(CONTINUE, 'latin1');
  }

  writeInformationalResponse(resp: ResponseHeader): void {
    if (this.written !== undefined || this.responseFinished || this.upgrade !== undefined) return;
    if (this.req.minorVersion === 0 || resp.status !== 103 || resp.headers.get('link') === undefined) return;
    this.owner.socket.write(h1ResponseHead(resp), 'latin1');
  }

  // --- per-request controls ---

  setReadTimeout(ms: number | undefined): void {
    const t = this.timers.timeouts;
    this.timers.timeouts = { readTimeout: ms, writeTimeout: t.writeTimeout };
    if (this.bodyStarted) this.armReadTimeout();
  }

  getReadTimeout(): number | undefined {
    return this.timers.timeouts.readTimeout;
  }

  setWriteTimeout(ms: number | undefined): void {
    const t = this.timers.timeouts;
    this.timers.timeouts = { readTimeout: t.readTimeout, writeTimeout: ms };
  }

  setMinSendRate(bytesPerSecond: number | undefined): void {
    this.minSendRate = bytesPerSecond !== undefined && bytesPerSecond > 0 ? bytesPerSecond : undefined;
  }

  setCloseOnResponseBeforeDownstreamFinish(close: boolean): void {
    this.closeOnEarlyResponse = close;
  }

  setTotalDrainTimeout(ms: number | undefined): void {
    this.drainTimeout = ms;
  }

  setKeepalive(seconds: number | undefined): void {
    if (seconds === undefined) this.keepaliveOff = true;
    else {
      this.keepaliveOff = false;
      this.keepaliveMs = seconds * 1000;
    }
  }

  // --- response ---

  writeResponseHeader(resp: ResponseHeader, endOfStream = false): void {
    if (this.written !== undefined || this.responseFinished) return;
    this.written = resp;
    this.timing.responseHeaderSent = performance.now();
    if (this.upgrade !== undefined) {
      // An upgrade is answered without framing: 101 starts the tunnel, anything else closes.
      const h = resp.status === 101 ? h1ResponseHead(resp) : withClose(h1ResponseHead(resp));
      this.upgrade.socket.write(h, 'latin1');
      if (endOfStream) this.upgrade.socket.end();
      if (endOfStream || resp.status === 101) this.markFinished();
      return;
    }
    if (endOfStream) {
      this.frame(resp, -1);
      this.owner.socket.write(this.pendingHead!, 'latin1');
      this.pendingHead = undefined;
      this.finishBody();
    } else this.pendingResp = resp;
  }

  // The head waits for the first body write, so both leave in one write (and a whole body in one
  // call gets a Content-Length instead of chunks).
  private pendingResp: ResponseHeader | undefined = undefined;

  private frame(resp: ResponseHeader, knownLength: number): void {
    this.pendingResp = undefined;
    // One scratch object for every response: frameResponse is synchronous.
    const input = FRAMING_SCRATCH;
    input.head = this.req.method === 'HEAD';
    input.http11 = this.req.minorVersion === 1;
    input.keepAlive =
      !this.keepaliveOff &&
      this.owner.keepAliveAllowed(this) &&
      !(this.closeOnEarlyResponse && this.hasRequestBody && !this.owner.requestComplete(this));
    input.keepaliveMs = this.keepaliveMs;
    input.knownLength = knownLength;
    this.pendingHead = frameResponse(resp, input);
    this.framing = input.framing;
    this.keepAlive = input.keepAlive;
  }

  writeResponseBody(chunk: Buffer | undefined, endOfStream: boolean): boolean {
    // A 101 finished the response and started the tunnel; the proxy still writes through here.
    if (this.responseFinished && !(this.upgrade !== undefined && this.written?.status === 101)) return true;
    const sock = this.upgrade?.socket ?? this.owner.socket;
    let ok = true;
    if (this.upgrade !== undefined) {
      if (chunk !== undefined && chunk.length > 0) {
        this.bodyBytesSent += chunk.length;
        ok = sock.write(chunk);
      }
      if (endOfStream) sock.end();
    } else {
      const resp = this.pendingResp;
      if (resp !== undefined) this.frame(resp, -1);
      ok = this.writeFramed(sock, chunk, endOfStream);
    }
    if (!ok) this.armWrite(sock);
    if (endOfStream) this.finishBody();
    return ok;
  }

  // Head (when pending), chunk framing and data: one write for small bodies, a corked pair else.
  private writeFramed(sock: Socket, chunk: Buffer | undefined, endOfStream: boolean): boolean {
    const pre = this.pendingHead ?? '';
    this.pendingHead = undefined;
    const framing = this.framing;
    const n = chunk === undefined || framing === FRAMING_NONE ? 0 : chunk.length;
    this.bodyBytesSent += n;
    return writeFramed(sock, pre, n > 0 ? chunk : undefined, framing, endOfStream);
  }

  private armWrite(sock: Socket): void {
    const ms = writeWaitMs(this.minSendRate, sock.writableLength, this.timers.timeouts.writeTimeout);
    this.timers.armWrite(sock, ms);
  }

  writeResponseTrailers(rawTrailers: string[]): void {
    if (this.responseFinished) return;
    if (this.upgrade === undefined) {
      const resp = this.pendingResp;
      if (resp !== undefined) this.frame(resp, -1);
      const head = this.pendingHead ?? '';
      this.pendingHead = undefined;
      // Trailers go only with chunked framing (as node:http); otherwise they are dropped.
      const tail = this.framing === FRAMING_CHUNKED ? lastChunk(rawTrailers) : '';
      if (head.length + tail.length > 0) this.owner.socket.write(head + tail, 'latin1');
    }
    this.finishBody();
  }

  onResponseDrain(cb: () => void): void {
    (this.upgrade?.socket ?? this.owner.socket).once('drain', cb);
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
    const resp = cannedErrorHeader(status, len);
    this.writeResponseHeader(resp, len === 0);
    if (len > 0) this.writeResponseBody(typeof body === 'string' ? Buffer.from(body) : body, true);
  }

  onClientGone(cb: (reason: PingoraError | undefined) => void): void {
    if (this.goneCallbacks === undefined) this.goneCallbacks = [cb];
    else this.goneCallbacks.push(cb);
  }

  /** @internal The connection closed; tell the waiters if the response was not done. */
  clientClosed(): void {
    this.ioTimers?.clear();
    if (!this.body.done && this.upgrade === undefined)
      this.body.fail(new Error('client closed the connection before the request body was complete'));
    const cbs = this.goneCallbacks;
    this.goneCallbacks = undefined;
    // A response cut by its write timeout was finished by the cut, not delivered: waiters hear why.
    if (cbs === undefined || (this.responseFinished && this.goneReason === undefined)) return;
    for (const cb of cbs) cb(this.goneReason);
  }

  /**
   * @internal The connection answered this request itself (408, a refusal) and is closing, or
   * lingering until the client closes: the request's waiters hear it is gone, and nothing more of
   * this session reaches the socket (an app's late 500 or abort would break the linger).
   */
  connectionAnswered(): void {
    this.clientClosed();
    this.answeredByConnection = true;
    if (this.responseFinished) return;
    this.responseFinished = true;
    this.timing.end = performance.now();
  }

  abort(): void {
    if (this.answeredByConnection) return;
    (this.upgrade?.socket ?? this.owner.socket).destroy();
    this.markFinished();
  }

  private finishBody(): void {
    if (this.responseFinished) return;
    if (this.framing === FRAMING_CLOSE) this.keepAlive = false;
    this.markFinished();
  }

  private markFinished(): void {
    if (this.responseFinished) return;
    this.responseFinished = true;
    this.timing.end = performance.now();
    this.ioTimers?.clearRead();
    if (this.upgrade !== undefined) return;
    if (!this.body.done) this.body.discarding = true;
    this.owner.responseDone(this, this.keepAlive, this.keepaliveMs, this.drainTimeout);
  }
}

// The head with `Connection: close` in place of whatever Connection field it had (one on the wire).
function withClose(head: string): string {
  return `${head.slice(0, -2).replace(CONNECTION_LINE, '')}Connection: close\r\n\r\n`;
}

// A Connection field line of a head (header values never hold CR or LF: the http package refuses them).
const CONNECTION_LINE = /\r\nconnection:[^\r\n]*/gi;
