/**
 * The downstream HTTP/1.x session over node:http (llhttp, strict mode). Node parses the request and
 * frames the response; this class adds Pingora's session API on top without re-parsing: the
 * request header wraps `req.rawHeaders` in place and the response head goes out through
 * `res.writeHead(status, rawArray)`. Upgrade requests (no ServerResponse) write raw bytes instead.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { PingoraError } from '@pingora-ts/error';
import { RequestHeader, type ResponseHeader, responseHeadToWire } from '@pingora-ts/http';
import { getSslDigest } from '@pingora-ts/tls-openssl';
import { type FastTimer, fastTimeout } from '@pingora-ts/timeout';
import {
  BAD_TRANSFER_ENCODING,
  DUPLICATE_HOST,
  HAS_BODY,
  HAS_HOST,
  HAS_UPGRADE,
  scanFields,
} from './h1-request-fields.js';
import { IoTimers, READ_TIMEOUT, type TimeoutKind } from './io-timers.js';
import { H1Keepalive } from './h1-keepalive.js';
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
  earlyHintsFields,
  localAddr,
  readBodyChunk,
  readTimedout,
  remoteAddr,
  writeTimedout,
  writeWaitMs,
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

// The rest of an unread request body did not arrive within the total drain timeout.
function onDrainTimeout(session: H1ServerSession): void {
  if (!session.req.complete) session.req.socket?.destroy();
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
  private goneCallbacks: Array<(reason: PingoraError | undefined) => void> | undefined;
  private bodyStarted = false;
  private readonly timers: IoTimers;
  // Per-request controls: all unset on the common path, where they cost a field each and nothing per chunk.
  private minSendRate: number | undefined = undefined;
  private closeOnEarlyResponse = false;
  private discardBody = false;
  private drainTimeout: number | undefined = DEFAULT_TOTAL_DRAIN_TIMEOUT;
  private drainTimer: FastTimer | undefined = undefined;
  private bodyReader: RequestBodyReader | undefined = undefined;
  private goneReason: PingoraError | undefined = undefined;
  // Made by the first setKeepalive call only.
  private keepalive: H1Keepalive | undefined = undefined;

  /**
   * @param req the parsed request
   * @param res its response, or `undefined` for an upgrade request (then `socket`/`head` are set)
   */
  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse | undefined,
    upgrade?: { socket: Socket; head: Buffer },
    readonly expectContinue = false,
    options: H1SessionOptions = DEFAULT_H1_SESSION_OPTIONS,
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
    const reader = this.bodyReader;
    if (reader !== undefined) return reader.readRequestBody();
    return readBodyChunk(this, this.req, bodyOutcome, true);
  }

  setRequestBodyReader(reader: RequestBodyReader | undefined): void {
    this.bodyReader = reader;
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
    this.drainTimer?.clear();
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
    this.drainTimer?.clear();
    if (this.sink !== undefined && !this.req.complete) {
      this.onReqError(new Error(BODY_INCOMPLETE));
    }
  };

  // While paused for backpressure the client is not the one being slow: no read timeout then.
  // Once the response is finished the rest of the body is being drained, never held.
  pauseRequestBody(): void {
    if (this.discardBody) return;
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
      const e = readTimedout(this.timers.timeouts.readTimeout);
      this.sink?.onRequestBodyError(e);
      this.sink = undefined;
      return;
    }
    // A client that takes nothing for this long is gone (even after the response was ended: the
    // bytes still queued for it would otherwise hold the connection forever). The 'close' that
    // follows tells the waiters why.
    this.goneReason = writeTimedout(this.minSendRate, this.timers.timeouts.writeTimeout);
    (this.res?.socket ?? this.upgradeSocket ?? this.req.socket)?.destroy();
    this.markFinished();
  };

  drainRequestBody(): Promise<void> {
    const reader = this.bodyReader;
    return reader !== undefined ? reader.drainRequestBody() : drainBody(this);
  }

  // --- per-request controls ---

  setReadTimeout(ms: number | undefined): void {
    const t = this.timers.timeouts;
    this.timers.timeouts = { readTimeout: ms, writeTimeout: t.writeTimeout };
    // A wait in progress restarts with the new value; a paused body has none and gets none.
    if (this.sink !== undefined && !this.req.isPaused()) this.armReadTimeout();
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

  // A response head about to go out while the body is still arriving: with the flag set the
  // connection closes after this response rather than wait for the rest of the body.
  private closeIfBodyUnread(res: ServerResponse): void {
    if (this.closeOnEarlyResponse && this.hasRequestBody && !this.req.complete) res.shouldKeepAlive = false;
  }

  // The response is complete but the body is not: read the rest off the wire and drop it, so the
  // next request on the connection can be parsed (a paused body would hold the connection until
  // its idle timeout), within the total drain timeout.
  private discardRest(): void {
    const req = this.req;
    if (req.complete || req.destroyed) return;
    this.discardBody = true;
    this.sink = undefined;
    this.timers.clearRead();
    if (!this.bodyStarted) {
      this.bodyStarted = true;
      req.on('data', this.onReqData);
      req.on('end', this.onReqEnd);
      req.on('error', this.onReqError);
      req.on('close', this.onReqClose);
    }
    req.resume();
    const ms = this.drainTimeout;
    if (ms !== undefined) this.drainTimer = fastTimeout(onDrainTimeout, ms, this);
  }

  writeContinueResponse(): void {
    if (!this.expectContinue || this.continueSent || this.res === undefined) return;
    this.continueSent = true;
    this.res.writeContinue();
  }

  writeInformationalResponse(resp: ResponseHeader): void {
    const res = this.res;
    if (res === undefined || this.written !== undefined || res.headersSent) return;
    if (this.req.httpVersionMajor === 1 && this.req.httpVersionMinor === 0) return;
    const hints = earlyHintsFields(resp);
    if (hints !== undefined) res.writeEarlyHints(hints);
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
    this.closeIfBodyUnread(res);
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
      if (!ok) this.armWrite();
    }
    if (endOfStream) this.end();
    return ok;
  }

  // A refused write: the client must take what is queued within the write timeout, or at the
  // minimum send rate.
  private armWrite(): void {
    const out = this.res ?? this.upgradeSocket!;
    const ms = writeWaitMs(this.minSendRate, out.writableLength, this.timers.timeouts.writeTimeout);
    this.timers.armWrite(out, ms);
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
    this.closeIfBodyUnread(res);
    res.writeHead(status, this.written.rawHeaders);
    this.bodyBytesSent += len;
    res.end(len > 0 ? body : undefined);
    this.markFinished();
  }

  setKeepalive(seconds: number | undefined): void {
    const res = this.res;
    if (res === undefined) return;
    let k = this.keepalive;
    if (k === undefined) this.keepalive = k = new H1Keepalive(this.req, res);
    k.set(seconds);
  }

  onClientGone(cb: (reason: PingoraError | undefined) => void): void {
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
    for (const cb of cbs) cb(this.goneReason);
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
    if (this.hasRequestBody && this.res !== undefined && !this.req.complete) this.discardRest();
  }
}
