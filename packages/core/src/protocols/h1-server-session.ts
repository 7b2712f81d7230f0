/**
 * The downstream HTTP/1.x session over node:http (llhttp, strict mode). Node parses the request and
 * frames the response; this class adds Pingora's session API on top without re-parsing: the
 * request header wraps `req.rawHeaders` in place and the response head goes out through
 * `res.writeHead(status, rawArray)`. Upgrade requests (no ServerResponse) write raw bytes instead.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { ErrorType, PingoraError } from '@pingora-ts/error';
import { RequestHeader, type ResponseHeader, responseHeadToWire } from '@pingora-ts/http';
import { getSslDigest } from '@pingora-ts/tls-openssl';
import { IoTimers, READ_TIMEOUT, type TimeoutKind } from './io-timers.js';
import type {
  Digest,
  HttpServerSession,
  RequestBodySink,
  SessionTiming,
  SocketAddr,
} from './server-session.js';
import {
  bodyLength,
  cannedErrorHeader,
  drainBody,
  localAddr,
  readBodyChunk,
  remoteAddr,
} from './server-session-io.js';

/** Per-session timeouts from the HTTP server options (ms; `undefined` = none). */
export interface H1SessionOptions {
  /** Idle time allowed while waiting for request body bytes (Pingora's downstream read timeout). */
  readonly readTimeout: number | undefined;
  /** Time a response write may stay blocked on a client that takes nothing. */
  readonly writeTimeout: number | undefined;
}

/** Pingora's downstream read timeout (60 s); the same bound for a client that stops reading. */
export const DEFAULT_H1_SESSION_OPTIONS: H1SessionOptions = Object.freeze({
  readTimeout: 60_000,
  writeTimeout: 60_000,
});

// Up to this size a final body chunk is written as a string joined to the response head.
const SMALL_BODY = 2048;

const SESSION = Symbol('pingora-ts.h1Session');
type Closable = (ServerResponse | Socket) & { [SESSION]?: H1ServerSession };

// Shared 'close' listener; `this` is the response (or the upgraded socket).
function onDownstreamClose(this: Closable): void {
  this[SESSION]?.clientClosed();
}

// Bits of what one scan of the raw request fields found.
const HAS_BODY = 1;
// Transfer-Encoding whose last coding is not chunked: llhttp refuses it, but only after the
// request event; answering here keeps such a request away from the upstream entirely.
const BAD_TRANSFER_ENCODING = 2;
const HAS_HOST = 4;
// Two Host lines name two targets: whichever one the origin picks, a phase may have routed on the
// other, so such a request is refused rather than forwarded with both.
const DUPLICATE_HOST = 8;
const HAS_UPGRADE = 16;

/**
 * Scans the raw request fields once for framing and Host. Names are compared by length first so the
 * common request costs a few integer compares; `req.headers` would build an object per request.
 */
function scanFields(raw: string[]): number {
  let result = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 4) {
      if (name.toLowerCase() === 'host') result |= result & HAS_HOST ? DUPLICATE_HOST : HAS_HOST;
    } else if (name.length === 7) {
      if (name.toLowerCase() === 'upgrade') result |= HAS_UPGRADE;
    } else if (name.length === 17 && name.toLowerCase() === 'transfer-encoding') {
      result |= /(?:^|,)[ \t]*chunked[ \t]*$/i.test(raw[i + 1]!) ? HAS_BODY : BAD_TRANSFER_ENCODING;
    } else if (name.length === 14 && name.toLowerCase() === 'content-length' && raw[i + 1] !== '0') {
      result |= HAS_BODY;
    }
  }
  return result;
}

const BODY_INCOMPLETE = 'client closed the connection before the request body was complete';

// How a pulled request body ended: node:http says whether the whole body arrived.
function bodyOutcome(req: IncomingMessage, closed: boolean): Error | undefined {
  return closed && !req.complete ? new Error(BODY_INCOMPLETE) : undefined;
}

/** An HTTP/1.x request/response on node:http. Created by `HttpServer`; apps receive it. */
export class H1ServerSession implements HttpServerSession {
  readonly httpVersion = 1 as const;
  readonly timing: SessionTiming = { start: performance.now(), responseHeaderSent: 0, end: 0 };
  readonly hasRequestBody: boolean;
  /** The request's Transfer-Encoding cannot be framed (it must be refused with 400). */
  readonly invalidFraming: boolean;
  /** The request carries a Host field. */
  readonly hasHost: boolean;
  /** The request carries more than one Host field (it must be refused with 400). */
  readonly duplicateHost: boolean;
  /** The request carries an Upgrade field (whether or not node treated it as an upgrade). */
  readonly offersUpgrade: boolean;
  bodyBytesRead = 0;
  bodyBytesSent = 0;
  responseFinished = false;

  private header: RequestHeader | undefined;
  private written: ResponseHeader | undefined;
  private sink: RequestBodySink | undefined;
  private upgradeSocket: Socket | undefined;
  private upgradeHead: Buffer | undefined;
  private continueSent = false;
  private goneCallbacks: Array<() => void> | undefined;
  private bodyStarted = false;
  private readonly timers: IoTimers;

  /**
   * @param req the parsed request
   * @param res its response, or `undefined` for an upgrade request (then `socket`/`head` are set)
   */
  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse | undefined,
    upgrade?: { socket: Socket; head: Buffer },
    readonly expectContinue = false,
    private readonly options: H1SessionOptions = DEFAULT_H1_SESSION_OPTIONS,
  ) {
    this.timers = new IoTimers(this.onTimeout, options);
    const fields = scanFields(req.rawHeaders);
    this.invalidFraming = (fields & BAD_TRANSFER_ENCODING) !== 0;
    this.hasRequestBody = (fields & (HAS_BODY | BAD_TRANSFER_ENCODING)) !== 0;
    this.hasHost = (fields & HAS_HOST) !== 0;
    this.duplicateHost = (fields & DUPLICATE_HOST) !== 0;
    this.offersUpgrade = (fields & HAS_UPGRADE) !== 0;
    if (upgrade !== undefined) {
      this.upgradeSocket = upgrade.socket;
      this.upgradeHead = upgrade.head;
    }
  }

  reqHeader(): RequestHeader {
    let h = this.header;
    if (h === undefined) {
      const req = this.req;
      this.header = h = RequestHeader.fromRaw(
        req.method ?? 'GET',
        req.url ?? '/',
        req.rawHeaders,
        req.httpVersion,
      );
    }
    return h;
  }

  getHeader(name: string): string | undefined {
    return this.reqHeader().headers.get(name);
  }

  clientAddr(): SocketAddr | undefined {
    return remoteAddr(this.req.socket);
  }

  serverAddr(): SocketAddr | undefined {
    return localAddr(this.req.socket);
  }

  digest(): Digest {
    return { sslDigest: getSslDigest(this.req.socket) };
  }

  isUpgradeReq(): boolean {
    return this.upgradeSocket !== undefined;
  }

  // --- request body ---

  readRequestBody(): Promise<Buffer | undefined> {
    return readBodyChunk(this, this.req, bodyOutcome, true);
  }

  pumpRequestBody(sink: RequestBodySink): void {
    this.writeContinueResponse();
    this.sink = sink;
    const req = this.req;
    if (req.readableEnded || !this.hasRequestBody) {
      sink.onRequestBodyEnd(undefined);
      return;
    }
    if (this.bodyStarted) return;
    this.bodyStarted = true;
    req.on('data', this.onReqData);
    req.on('end', this.onReqEnd);
    this.armReadTimeout();
    req.on('error', this.onReqError);
    req.on('close', this.onReqClose);
  }

  private readonly onReqData = (chunk: Buffer): void => {
    this.timers.refreshRead();
    this.bodyBytesRead += chunk.length;
    this.sink?.onRequestBody(chunk);
  };

  private readonly onReqEnd = (): void => {
    this.timers.clearRead();
    const t = this.req.rawTrailers;
    this.sink?.onRequestBodyEnd(t.length > 0 ? t : undefined);
    this.sink = undefined;
  };

  private readonly onReqError = (e: Error): void => {
    this.timers.clearRead();
    this.sink?.onRequestBodyError(e);
    this.sink = undefined;
  };

  private readonly onReqClose = (): void => {
    if (this.sink !== undefined && !this.req.complete) {
      this.onReqError(new Error(BODY_INCOMPLETE));
    }
  };

  // While paused for backpressure the client is not the one being slow: no read timeout then.
  pauseRequestBody(): void {
    this.req.pause();
    this.timers.clearRead();
  }

  resumeRequestBody(): void {
    this.req.resume();
    this.armReadTimeout();
  }

  private armReadTimeout(): void {
    this.timers.armRead(this.bodyStarted && !this.req.readableEnded);
  }

  private readonly onTimeout = (kind: TimeoutKind): void => {
    if (kind === READ_TIMEOUT) {
      const e = PingoraError.explain(
        ErrorType.ReadTimedout,
        `no request body data for ${this.options.readTimeout} ms`,
      ).asDown();
      this.sink?.onRequestBodyError(e);
      this.sink = undefined;
      return;
    }
    // A client that takes nothing for this long is gone (even after the response was ended: the
    // bytes still queued for it would otherwise hold the connection forever).
    (this.res?.socket ?? this.upgradeSocket ?? this.req.socket)?.destroy();
    this.markFinished();
  };

  drainRequestBody(): Promise<void> {
    return drainBody(this);
  }

  writeContinueResponse(): void {
    if (!this.expectContinue || this.continueSent || this.res === undefined) return;
    this.continueSent = true;
    this.res.writeContinue();
  }

  // --- response ---

  writeResponseHeader(resp: ResponseHeader, endOfStream = false): void {
    this.written = resp;
    this.timing.responseHeaderSent = performance.now();
    const res = this.res;
    if (res === undefined) {
      // Without node's framing a refused upgrade is answered close-delimited, then the socket closes.
      if (resp.status !== 101) resp.insertHeader('Connection', 'close');
      this.upgradeSocket!.write(responseHeadToWire(resp));
      if (endOfStream || resp.status === 101) this.finishRaw(endOfStream);
      return;
    }
    const reason = resp.getReasonPhrase();
    if (reason !== undefined) res.writeHead(resp.status, reason, resp.rawHeaders);
    else res.writeHead(resp.status, resp.rawHeaders);
    if (endOfStream) this.end();
  }

  writeResponseBody(chunk: Buffer | undefined, endOfStream: boolean): boolean {
    let ok = true;
    const res = this.res;
    if (endOfStream && res !== undefined && chunk !== undefined && !this.responseFinished) {
      // The last chunk and the end in one call. A small body goes as a latin1 string (byte for
      // byte): node then joins it to the pending head and makes one plain write, not a writev.
      this.bodyBytesSent += chunk.length;
      if (chunk.length <= SMALL_BODY && !res.headersSent) res.end(chunk.toString('latin1'), 'latin1');
      else res.end(chunk);
      this.markFinished();
      return true;
    }
    if (chunk !== undefined && chunk.length > 0) {
      this.bodyBytesSent += chunk.length;
      ok = this.res === undefined ? this.upgradeSocket!.write(chunk) : this.res.write(chunk);
      if (!ok) this.timers.armWrite(this.res ?? this.upgradeSocket!);
    }
    if (endOfStream) this.end();
    return ok;
  }

  writeResponseTrailers(rawTrailers: string[]): void {
    const res = this.res;
    if (res !== undefined && rawTrailers.length > 0) {
      const pairs: [string, string][] = [];
      for (let i = 0; i + 1 < rawTrailers.length; i += 2) pairs.push([rawTrailers[i]!, rawTrailers[i + 1]!]);
      res.addTrailers(pairs);
    }
    this.end();
  }

  onResponseDrain(cb: () => void): void {
    (this.res ?? this.upgradeSocket!).once('drain', cb);
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
    const res = this.res;
    this.written = cannedErrorHeader(status, len);
    this.timing.responseHeaderSent = performance.now();
    if (res === undefined) {
      const sock = this.upgradeSocket!;
      this.written.insertHeader('Connection', 'close');
      sock.write(responseHeadToWire(this.written));
      this.bodyBytesSent += len;
      if (len > 0) sock.write(body);
      this.finishRaw(true);
      return;
    }
    res.writeHead(status, this.written.rawHeaders);
    this.bodyBytesSent += len;
    res.end(len > 0 ? body : undefined);
    this.markFinished();
  }

  setKeepalive(seconds: number | undefined): void {
    if (this.res !== undefined) this.res.shouldKeepAlive = seconds !== undefined;
  }

  onClientGone(cb: () => void): void {
    // One 'close' listener per session however many callbacks (a retried request registers one per
    // attempt), through a shared function: no closure per request.
    if (this.goneCallbacks === undefined) {
      this.goneCallbacks = [cb];
      const target = (this.res ?? this.upgradeSocket!) as Closable;
      target[SESSION] = this;
      target.once('close', onDownstreamClose);
    } else {
      this.goneCallbacks.push(cb);
    }
  }

  /** @internal The downstream connection closed; tell the waiters if the response was not done. */
  clientClosed(): void {
    const cbs = this.goneCallbacks;
    this.goneCallbacks = undefined;
    const finished = this.res !== undefined ? this.res.writableFinished : this.responseFinished;
    if (cbs === undefined || finished) return;
    for (const cb of cbs) cb();
  }

  abort(): void {
    (this.res?.socket ?? this.upgradeSocket ?? this.req.socket)?.destroy();
    this.markFinished();
  }

  takeUpgradeSocket(): { socket: Socket; head: Buffer } | undefined {
    const socket = this.upgradeSocket;
    if (socket === undefined) return undefined;
    return { socket, head: this.upgradeHead ?? Buffer.alloc(0) };
  }

  private end(): void {
    if (this.responseFinished) return;
    if (this.res !== undefined) this.res.end();
    else this.finishRaw(true);
    this.markFinished();
  }

  // An upgrade request that was answered without switching protocols cannot continue as HTTP.
  private finishRaw(close: boolean): void {
    if (close) this.upgradeSocket?.end();
    this.markFinished();
  }

  private markFinished(): void {
    if (this.responseFinished) return;
    this.responseFinished = true;
    this.timing.end = performance.now();
  }
}
