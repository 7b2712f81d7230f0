/**
 * The downstream request body as the proxy sees it across attempts. Chunks are forwarded as they
 * arrive and, up to Pingora's 64 KiB retry buffer, kept so a retried attempt can send the body
 * again; past the limit the buffer is dropped and a retry that needs it is refused (Pingora's
 * `retry_buffer_truncated`). The same object serves `readRequestBody` (consuming) and
 * `bufferRequestBody` (read ahead, still forwarded).
 */
import type { Socket } from 'node:net';
import type { HttpServerSession, RequestBodyReader, RequestBodySink } from '@pingora-ts/core';
import { ErrorType, isPingoraError, PingoraError } from '@pingora-ts/error';
import { type FastTimer, fastTimeout } from '@pingora-ts/timeout';

/** Pingora's request-body retry buffer size. */
export const RETRY_BUFFER_LIMIT = 64 * 1024;

/** Receives the body for one upstream attempt. */
export interface BodyTarget {
  onBodyChunk(chunk: Buffer): void;
  onBodyEnd(rawTrailers: string[] | undefined): void;
  onBodyError(error: PingoraError): void;
}

function consumedWhileForwarding(): PingoraError {
  return PingoraError.explain(
    ErrorType.InternalError,
    'the request body is being sent upstream: read it before the upstream request (requestFilter), or change it in requestBodyFilter',
  );
}

function clientGone(cause: Error): PingoraError {
  return PingoraError.because(ErrorType.ConnectionClosed, 'reading request body', cause).asDown();
}

/** Where the body bytes come from: the downstream session, or the socket of an upgrade request. */
type BodySource = Pick<HttpServerSession, 'pumpRequestBody' | 'pauseRequestBody' | 'resumeRequestBody'>;

/**
 * @internal The one reader of a proxied request's body: the session installs it as the
 * downstream's {@link RequestBodyReader}, so every read, through the proxy's `Session` or its
 * `downstream`, goes through here and is accounted for when the body is forwarded.
 */
export class RequestBodyBuffer implements RequestBodySink, RequestBodyReader {
  /** The body did not fit the retry buffer, so it cannot be sent again. */
  truncated = false;
  /** Some of the body was taken by `readRequestBody` and will not be forwarded. */
  consumed = false;
  private retained: Buffer[] = [];
  private retainedBytes = 0;
  private limit = RETRY_BUFFER_LIMIT;
  private ended = false;
  private trailers: string[] | undefined;
  private error: PingoraError | undefined;
  private pumping = false;
  private target: BodyTarget | undefined;
  private attachedBefore = false;
  private consumer: ((chunk: Buffer | undefined) => void) | undefined;
  private consumerFail: ((e: PingoraError) => void) | undefined;
  private whole: { max: number; resolve: (b: Buffer) => void; reject: (e: PingoraError) => void } | undefined;

  private readonly source: BodySource;

  constructor(downstream: HttpServerSession) {
    this.ended = !downstream.hasRequestBody;
    // node:http hands an upgrade request over with its body unparsed, still on the socket.
    this.source = !this.ended && downstream.isUpgradeReq() ? new UpgradeRequestBody(downstream) : downstream;
  }

  /** Body bytes read here rather than by the downstream session (an upgrade request's). */
  get upgradeBodyBytes(): number {
    const s = this.source;
    return s instanceof UpgradeRequestBody ? s.bytesRead : 0;
  }

  /**
   * The client's bytes that start the tunnel after a 101: `head` (what node read past the request
   * head) unless the body was read off the socket here, which leaves the rest on the socket.
   */
  tunnelHead(head: Buffer): Buffer {
    const s = this.source;
    return s instanceof UpgradeRequestBody ? s.stop() : head;
  }

  /** Sends the body (what was kept, then the rest as it arrives) to `target`. */
  attach(target: BodyTarget): void {
    if (this.attachedBefore && this.truncated) {
      target.onBodyError(
        PingoraError.explain(
          ErrorType.InternalError,
          'request body exceeded the retry buffer; cannot resend it',
        ),
      );
      return;
    }
    this.attachedBefore = true;
    this.target = target;
    for (const c of this.retained) target.onBodyChunk(c);
    if (this.error !== undefined) target.onBodyError(this.error);
    else if (this.ended) target.onBodyEnd(this.trailers);
    else this.pump();
  }

  /** Stops delivering to the current target (the attempt ended) and pauses the client. */
  detach(): void {
    this.target = undefined;
    if (!this.ended) this.source.pauseRequestBody();
  }

  /** Backpressure from the upstream side. */
  pause(): void {
    this.source.pauseRequestBody();
  }

  /** Resumes after {@link pause}. */
  resume(): void {
    if (!this.ended) this.source.resumeRequestBody();
  }

  consume(): Promise<Buffer | undefined> {
    // Once an attempt is sending the body, a chunk taken here would never reach the origin, which
    // may be waiting for it (a Content-Length body): refuse at once rather than hang the request.
    if (this.target !== undefined && !this.ended) return Promise.reject(consumedWhileForwarding());
    this.consumed = true;
    const first = this.retained.shift();
    if (first !== undefined) {
      this.retainedBytes -= first.length;
      return Promise.resolve(first);
    }
    if (this.error !== undefined) return Promise.reject(this.error);
    if (this.ended) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      this.consumer = resolve;
      this.consumerFail = reject;
      this.pump();
    });
  }

  bufferAll(max: number): Promise<Buffer> {
    if (this.retainedBytes > max) return Promise.reject(tooLarge(max));
    if (this.error !== undefined) return Promise.reject(this.error);
    if (this.ended) return Promise.resolve(Buffer.concat(this.retained));
    this.limit = Math.max(this.limit, max);
    return new Promise((resolve, reject) => {
      this.whole = { max, resolve, reject };
      this.pump();
    });
  }

  async drain(): Promise<void> {
    while ((await this.consume()) !== undefined) {
      // discard
    }
  }

  // --- RequestBodyReader (reads made through the downstream session) ---

  readRequestBody(): Promise<Buffer | undefined> {
    return this.consume();
  }

  drainRequestBody(): Promise<void> {
    return this.drain();
  }

  // --- RequestBodySink ---

  onRequestBody(chunk: Buffer): void {
    const consumer = this.consumer;
    if (consumer !== undefined) {
      this.consumer = this.consumerFail = undefined;
      this.source.pauseRequestBody();
      consumer(chunk);
      return;
    }
    if (!this.truncated) {
      if (this.retainedBytes + chunk.length <= this.limit) {
        this.retained.push(chunk);
        this.retainedBytes += chunk.length;
      } else {
        this.truncated = true;
        this.retained = [];
        this.retainedBytes = 0;
      }
    }
    const whole = this.whole;
    if (whole !== undefined && (this.truncated || this.retainedBytes > whole.max)) {
      this.whole = undefined;
      this.source.pauseRequestBody();
      whole.reject(tooLarge(whole.max));
      return;
    }
    this.target?.onBodyChunk(chunk);
  }

  onRequestBodyEnd(rawTrailers: string[] | undefined): void {
    this.ended = true;
    this.trailers = rawTrailers;
    this.consumer?.(undefined);
    this.consumer = this.consumerFail = undefined;
    const whole = this.whole;
    this.whole = undefined;
    whole?.resolve(Buffer.concat(this.retained));
    this.target?.onBodyEnd(rawTrailers);
  }

  onRequestBodyError(error: Error): void {
    // A typed error (e.g. a downstream read timeout) keeps its type; anything else means the client went away.
    const e = isPingoraError(error) ? error : clientGone(error);
    this.error = e;
    this.consumerFail?.(e);
    this.consumer = this.consumerFail = undefined;
    this.whole?.reject(e);
    this.whole = undefined;
    this.target?.onBodyError(e);
  }

  private pump(): void {
    if (!this.pumping) {
      this.pumping = true;
      this.source.pumpRequestBody(this);
    }
    this.source.resumeRequestBody();
  }
}

function tooLarge(max: number): PingoraError {
  return PingoraError.explain(ErrorType.HTTPStatus(413), `request body larger than ${max} bytes`).asDown();
}

const BODY_INCOMPLETE = 'client closed the connection before the request body was complete';

// States of the chunked decoder.
const SIZE = 0;
const DATA = 1;
const DATA_END = 2;
const TRAILER = 3;
const DONE = 4;
const STOPPED = 5;

/**
 * The body of an upgrade request (`POST` with `Upgrade: websocket` and a body, say), framed by its
 * Content-Length or chunked encoding, read off the raw socket node:http hands over with such a
 * request. Pingora forwards it before the origin answers: an origin may read the whole body before
 * it switches protocols. Bytes past the body stay on the socket for the tunnel. A client that stops
 * sending for the downstream read timeout fails the request (a downstream `ReadTimedout`, 408), as
 * a stalled body of a plain request does.
 */
class UpgradeRequestBody implements BodySource {
  bytesRead = 0;
  private readonly socket: Socket;
  private pending: Buffer | undefined;
  private sink: RequestBodySink | undefined;
  private state: number;
  // Bytes left of the Content-Length body, or of the current chunk's data.
  private remaining: number;
  private readonly chunked: boolean;
  // The framing line being read (chunked bodies only).
  private line = '';
  private started = false;
  // The session's read timeout, read when each wait starts: a phase may have changed it.
  private readonly downstream: HttpServerSession;
  private readTimeout: number | undefined;
  private timer: FastTimer | undefined;

  constructor(downstream: HttpServerSession) {
    this.downstream = downstream;
    const up = downstream.takeUpgradeSocket()!;
    this.socket = up.socket;
    this.pending = up.head.length > 0 ? up.head : undefined;
    const cl = downstream.getHeader('content-length');
    // node:http refused a request with both framings, so a length means a length-delimited body.
    this.chunked = cl === undefined;
    this.remaining = this.chunked ? 0 : Number(cl);
    this.state = this.chunked ? SIZE : DATA;
  }

  pumpRequestBody(sink: RequestBodySink): void {
    this.sink = sink;
    if (this.started) return;
    this.started = true;
    const s = this.socket;
    s.on('data', this.onData);
    s.on('end', this.onGone);
    s.on('close', this.onGone);
    this.armTimer();
    const head = this.pending;
    this.pending = undefined;
    if (head !== undefined) this.onData(head);
  }

  // While paused for backpressure the client is not the one being slow: no read timeout then.
  pauseRequestBody(): void {
    if (this.state >= DONE) return;
    this.socket.pause();
    this.timer?.clear();
  }

  resumeRequestBody(): void {
    if (this.state >= DONE) return;
    this.socket.resume();
    if (this.started) this.armTimer();
  }

  // A cleared FastTimer is final: each wait gets a fresh one; data refreshes it.
  private armTimer(): void {
    const ms = this.downstream.getReadTimeout();
    this.readTimeout = ms;
    this.timer?.clear();
    if (ms !== undefined) this.timer = fastTimeout(UpgradeRequestBody.timedOut, ms, this);
  }

  private static timedOut(body: UpgradeRequestBody): void {
    if (body.state >= DONE) return;
    body.finish(DONE);
    const sink = body.sink;
    body.sink = undefined;
    sink?.onRequestBodyError(
      PingoraError.explain(
        ErrorType.ReadTimedout,
        `no request body data for ${body.readTimeout} ms`,
      ).asDown(),
    );
  }

  /**
   * Stops reading (the connection became a tunnel) and returns what the tunnel must send first:
   * bytes read but not forwarded. A body cut short by the 101 passes through the tunnel as is,
   * as in Pingora and nginx.
   */
  stop(): Buffer {
    const unread = this.pending ?? Buffer.from(this.line, 'latin1');
    this.pending = undefined;
    this.line = '';
    if (this.state !== STOPPED) this.finish(STOPPED);
    return unread;
  }

  private finish(state: number): void {
    this.state = state;
    this.timer?.clear();
    const s = this.socket;
    s.off('data', this.onData);
    s.off('end', this.onGone);
    s.off('close', this.onGone);
    s.pause();
  }

  private readonly onGone = (): void => {
    if (this.state >= DONE) return;
    this.finish(DONE);
    const sink = this.sink;
    this.sink = undefined;
    sink?.onRequestBodyError(new Error(BODY_INCOMPLETE));
  };

  private readonly onData = (buf: Buffer): void => {
    this.timer?.refresh();
    let off = 0;
    while (off < buf.length && this.state < DONE) {
      switch (this.state) {
        case DATA: {
          const n = Math.min(this.remaining, buf.length - off);
          if (n > 0) {
            this.remaining -= n;
            this.bytesRead += n;
            this.sink?.onRequestBody(off === 0 && n === buf.length ? buf : buf.subarray(off, off + n));
            off += n;
          }
          if (this.remaining === 0) {
            if (this.chunked) this.state = DATA_END;
            else this.end(buf, off);
          }
          break;
        }
        case DATA_END:
        case SIZE:
        case TRAILER: {
          const nl = buf.indexOf(0x0a, off);
          const stop = nl < 0 ? buf.length : nl + 1;
          this.line += buf.toString('latin1', off, stop);
          off = stop;
          if (nl < 0) {
            if (this.line.length > 4096) this.malformed();
            break;
          }
          const text = this.line.trimEnd();
          this.line = '';
          this.lineDone(text, buf, off);
          break;
        }
      }
    }
  };

  // One complete line of chunked framing (without its CRLF).
  private lineDone(text: string, buf: Buffer, off: number): void {
    if (this.state === DATA_END) {
      if (text !== '') this.malformed();
      else this.state = SIZE;
    } else if (this.state === SIZE) {
      const size = Number.parseInt(text, 16);
      if (!/^[0-9a-f]+(?:[ \t]*;.*)?$/i.test(text) || !Number.isSafeInteger(size)) this.malformed();
      else if (size === 0) this.state = TRAILER;
      else {
        this.remaining = size;
        this.state = DATA;
      }
    } else if (text === '') {
      // Trailer fields of an upgrade request are not forwarded: the request head is long gone.
      this.end(buf, off);
    }
  }

  private end(buf: Buffer, off: number): void {
    this.line = '';
    this.finish(DONE);
    if (off < buf.length) this.socket.unshift(buf.subarray(off));
    const sink = this.sink;
    this.sink = undefined;
    sink?.onRequestBodyEnd(undefined);
  }

  private malformed(): void {
    this.finish(DONE);
    const sink = this.sink;
    this.sink = undefined;
    sink?.onRequestBodyError(
      PingoraError.explain(ErrorType.InvalidHTTPHeader, 'malformed chunked request body').asDown(),
    );
  }
}
