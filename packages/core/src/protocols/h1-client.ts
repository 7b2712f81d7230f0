/**
 * One HTTP/1.1 connection to an origin, used for one exchange at a time. The proxy drives it with
 * push callbacks (no promise or stream object per request): `sendRequest` writes the head,
 * `writeBody`/`finishBody` stream the request body with backpressure, and the handler receives the
 * response as it is parsed. A clean exchange leaves the connection reusable for the pool.
 */
import type { OnReadOpts, Socket } from 'node:net';
import { ErrorType, PingoraError } from '@pingora-ts/error';
import { headerLines, type RequestHeader, ResponseHeader } from '@pingora-ts/http';
import type { FastTimer } from '@pingora-ts/timeout';
import type { ConnectTiming } from '../upstream/connect.js';
import type { PoolLinks } from '../upstream/pool.js';
import { H1ResponseParser, type ParsedResponseHead, type ResponseParserSink } from './h1-response-parser.js';
import { IoTimers, READ_TIMEOUT, type TimeoutKind, upstreamTimeoutError } from './io-timers.js';
import {
  type BodyMode,
  type ExchangeTimeouts,
  type ExchangeTiming,
  exchangeTiming,
  responseFacts,
  type UpstreamResponseFacts,
  type UpstreamResponseHandler,
  type UpstreamSession,
} from './upstream-session.js';

const CRLF = Buffer.from('\r\n');
const LAST_CHUNK = Buffer.from('0\r\n\r\n');

// Every direct-read socket reads into this one buffer: reads run one at a time on the event loop
// and the session copies whatever outlives the read (body chunks, bytes after an upgrade).
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/**
 * @internal Reads of a plaintext upstream socket through net's `onread` option: into one shared
 * buffer and straight to the session, without a Buffer allocated per read or the Readable
 * machinery ('data' events, nextTicks). Made before the socket (the option is given to connect)
 * and handed to the {@link H1ClientSession} that then owns the socket.
 */
export class DirectReads {
  /** Where reads go; unset until the session takes the socket. */
  sink: ((chunk: Buffer) => boolean) | undefined = undefined;
  /** Bytes came before any session owned the socket (the origin spoke first). */
  unsolicited = false;
  /** The option for `net.connect`. */
  readonly onread: OnReadOpts = {
    buffer: READ_BUFFER,
    callback: (n: number, buf: Uint8Array): boolean => {
      const sink = this.sink;
      if (sink !== undefined) return sink((buf as Buffer).subarray(0, n));
      this.unsolicited = true;
      return false;
    },
  };
}

function isResetCode(code: unknown): boolean {
  return code === 'ECONNRESET' || code === 'EPIPE' || code === 'ECONNABORTED';
}

/**
 * An upstream HTTP/1.1 connection. Obtain one from a `Connector`; give it back with
 * `Connector.releaseHttpSession` so it can be reused.
 */
export class H1ClientSession implements UpstreamSession, ResponseParserSink, PoolLinks {
  readonly httpVersion = 1 as const;
  /** The socket (TCP, Unix or TLS). */
  readonly socket: Socket;
  /** Pool key of the peer it was opened for. */
  readonly reuseKey: string;
  /** Exchanges completed on this connection before the current one. */
  requestsServed = 0;
  /** Called when the connection dies while idle in a pool. */
  onIdleClose: ((session: H1ClientSession) => void) | undefined = undefined;
  /** Setup durations of this connection and the marks of the current exchange. */
  readonly timing: ExchangeTiming;
  /** @internal Pool bookkeeping (see `ConnectionPool`). */
  poolPrev: H1ClientSession | undefined = undefined;
  /** @internal */
  poolNext: H1ClientSession | undefined = undefined;
  /** @internal */
  pooled = false;
  /** @internal */
  idleTimer: FastTimer | undefined = undefined;

  private readonly parser: H1ResponseParser;
  // Rewritten by each response head; see UpstreamResponseFacts.
  private readonly facts: UpstreamResponseFacts = responseFacts();
  private handler: UpstreamResponseHandler | undefined;
  private bodyMode: BodyMode = 'none';
  private requestFinished = true;
  private responseFinished = true;
  private keepAlive = true;
  private dead = false;
  private readonly timers: IoTimers;
  private paused = false;
  // Reads come through net's `onread` into a shared buffer: what outlives a read is copied.
  private readonly reads: DirectReads | undefined;

  /**
   * @param connectTiming How long opening `socket` took (the connector measures it).
   * @param reads The `onread` route the socket was connected with, if any (see {@link DirectReads}).
   */
  constructor(socket: Socket, reuseKey: string, connectTiming?: ConnectTiming, reads?: DirectReads) {
    this.socket = socket;
    this.reuseKey = reuseKey;
    this.timing = exchangeTiming(connectTiming);
    this.parser = new H1ResponseParser(this);
    this.timers = new IoTimers(this.onTimeout);
    this.reads = reads;
    if (reads === undefined) socket.on('data', this.onData);
    else {
      reads.sink = this.onDirectRead;
      // The origin spoke before any request: as for data on an idle connection, close it.
      if (reads.unsolicited) this.kill();
    }
    socket.on('end', this.onEnd);
    socket.on('error', this.onSocketError);
    socket.on('close', this.onClose);
  }

  /** True when the connection served an exchange before the current one. */
  get reused(): boolean {
    return this.requestsServed > 0;
  }

  /** True while an exchange is in progress. */
  get busy(): boolean {
    return this.handler !== undefined;
  }

  /** Whether the connection can go back to the pool after the current exchange. */
  get reusable(): boolean {
    return (
      !this.dead &&
      this.keepAlive &&
      this.handler === undefined &&
      this.requestFinished &&
      this.responseFinished &&
      !this.socket.destroyed
    );
  }

  /**
   * Writes the request head and starts waiting for the response. A `stream` body is sent chunked
   * (Transfer-Encoding is set and Content-Length removed). Returns `false` when the socket's
   * buffer is full (wait for `onDrain`).
   */
  sendRequest(
    req: RequestHeader,
    handler: UpstreamResponseHandler,
    bodyMode: BodyMode,
    timeouts: ExchangeTimeouts,
  ): boolean {
    if (this.handler !== undefined) throw new Error('H1ClientSession: exchange already in progress');
    let framing = '';
    if (bodyMode === 'stream') {
      req.removeHeader('Content-Length');
      req.removeHeader('Transfer-Encoding');
      framing = 'Transfer-Encoding: chunked\r\n';
    }
    this.handler = handler;
    this.bodyMode = bodyMode;
    this.requestFinished = bodyMode === 'none';
    this.responseFinished = false;
    this.timers.timeouts = timeouts;
    this.parser.reset(req.method === 'HEAD');
    this.timing.firstByte = 0;
    this.timing.requestSent = performance.now();
    this.timers.armRead(!this.paused);
    // HTTP/1.1 upstream whatever the client spoke; no-case (HTTP/2) names are title-cased.
    const head = `${req.method} ${req.uri} HTTP/1.1\r\n${headerLines(req.rawHeaders, !req.hasCase())}${framing}\r\n`;
    return this.write(head, 'latin1');
  }

  /** Writes a piece of request body (chunk-encoded when the mode is chunked). */
  writeBody(chunk: Buffer): boolean {
    if (this.requestFinished || chunk.length === 0) return true;
    // An origin may rightly say nothing until the whole body is in: while it still goes up, the
    // read wait starts over (a stalled upload is the write timeout's and the client's business).
    this.timers.refreshRead();
    if (this.bodyMode === 'stream') {
      const s = this.socket;
      s.cork();
      s.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
      s.write(chunk);
      const ok = this.write(CRLF);
      s.uncork();
      return ok;
    }
    return this.write(chunk);
  }

  /** Ends the request body; trailers are sent only with chunked framing. */
  finishBody(rawTrailers?: readonly string[]): void {
    if (this.requestFinished) return;
    this.requestFinished = true;
    if (this.bodyMode !== 'stream') return;
    if (rawTrailers === undefined || rawTrailers.length === 0) {
      this.write(LAST_CHUNK);
      return;
    }
    let t = '0\r\n';
    for (let i = 0; i + 1 < rawTrailers.length; i += 2) t += `${rawTrailers[i]}: ${rawTrailers[i + 1]}\r\n`;
    this.write(`${t}\r\n`, 'latin1');
  }

  /** Runs `cb` once the socket can take more data. */
  onDrain(cb: () => void): void {
    this.socket.once('drain', cb);
  }

  /** Stop reading the response (the downstream is slow). The read timeout is suspended too. */
  pauseResponse(): void {
    // After the response is complete there is nothing left to hold back; a pause then would leave
    // the connection unread in the pool (deaf to the origin closing it, and to the next response).
    if (this.paused || this.handler === undefined) return;
    this.paused = true;
    this.socket.pause();
    this.timers.clearRead();
  }

  /** Resume reading after {@link pauseResponse}. */
  resumeResponse(): void {
    if (!this.paused) return;
    this.paused = false;
    this.socket.resume();
    if (this.handler !== undefined) this.timers.armRead(!this.paused);
  }

  /** Abort the exchange and close the connection. The handler gets no further calls. */
  destroy(): void {
    this.handler = undefined;
    this.kill();
  }

  /** Marks the connection as not reusable; it is closed instead of pooled. */
  markNotReusable(): void {
    this.keepAlive = false;
  }

  // --- ResponseParserSink ---

  /** @internal The parser's event; the handler gets a `ResponseHeader`. */
  onInformational(head: ParsedResponseHead): void {
    const h = this.handler;
    if (h?.onInformational !== undefined) h.onInformational(responseHeaderOf(head));
  }

  /** @internal The parser's event; the handler gets a `ResponseHeader` and the facts. */
  onHead(head: ParsedResponseHead): void {
    if (!head.keepAlive) this.keepAlive = false;
    if (head.upgrade) {
      if (this.handler?.onUpgrade === undefined) {
        throw PingoraError.explain(ErrorType.H1Error, 'unexpected 101 Switching Protocols').asUp();
      }
      this.upgradeHead = true;
    }
    const f = this.facts;
    // Chunked and close-delimited bodies are both "until the end" to a reader.
    f.body = head.framing === 'none' ? 'none' : head.framing === 'length' ? 'length' : 'stream';
    f.contentLength = f.body === 'length' ? head.contentLength : -1;
    f.upgrade = head.upgrade;
    this.handler?.onResponseHeader(responseHeaderOf(head), f);
  }

  /** @internal */
  onBody(chunk: Buffer): void {
    // A direct read's bytes live in the shared buffer until the next read: the handler gets a copy.
    this.handler?.onResponseBody(this.reads === undefined ? chunk : Buffer.from(chunk));
  }

  /** @internal */
  onTrailers(rawTrailers: string[]): void {
    this.handler?.onResponseTrailers(rawTrailers);
  }

  /** @internal */
  onComplete(rest: Buffer | undefined): void {
    const handler = this.handler;
    // The connection usually goes back to the pool and serves again: the next exchange restarts
    // this timer; kill() and detach() clear it for good.
    this.timers.parkRead();
    this.responseFinished = true;
    if (handler === undefined) return;
    this.handler = undefined;
    this.requestsServed++;
    if (this.upgradeHead && handler.onUpgrade !== undefined) {
      this.upgradeHead = false;
      this.detach();
      handler.onUpgrade(
        this.socket,
        rest !== undefined && this.reads !== undefined ? Buffer.from(rest) : rest,
      );
      return;
    }
    // Bytes after a complete response, or a body still being sent, mean the connection's state is
    // not one we can trust for the next request.
    if (rest !== undefined || !this.requestFinished) this.keepAlive = false;
    // A consumer that paused for the last chunk must not hand a paused socket to the pool.
    if (this.paused) {
      this.paused = false;
      this.socket.resume();
    }
    handler.onResponseEnd();
  }

  private upgradeHead = false;

  // --- socket events ---

  private readonly onDirectRead = (chunk: Buffer): boolean => {
    this.onData(chunk);
    return true;
  };

  private readonly onData = (chunk: Buffer): void => {
    if (this.handler === undefined) {
      // Data on an idle connection: the origin is confused or closing; never reuse it.
      this.kill();
      return;
    }
    this.timers.refreshRead();
    if (this.timing.firstByte === 0) this.timing.firstByte = performance.now();
    try {
      this.parser.execute(chunk);
    } catch (e) {
      this.fail(e as PingoraError);
    }
  };

  private readonly onEnd = (): void => {
    if (this.handler === undefined) {
      this.kill();
      return;
    }
    try {
      this.parser.eof();
    } catch (e) {
      // ConnectionClosed arrives with retry ReusedOnly when no byte of the response came.
      this.fail(e as PingoraError);
    }
    this.keepAlive = false;
  };

  private readonly onSocketError = (err: NodeJS.ErrnoException): void => {
    if (this.handler === undefined) {
      this.kill();
      return;
    }
    const nothingYet = this.parser.awaitingFirstByte;
    const type = err.code === 'EPIPE' ? ErrorType.WriteError : ErrorType.ReadError;
    const e = PingoraError.because(type, `upstream socket error ${err.code ?? ''}`.trim(), err).asUp();
    if (nothingYet && isResetCode(err.code)) e.setRetry('ReusedOnly');
    this.fail(e);
  };

  private readonly onClose = (): void => {
    this.dead = true;
    this.timers.clear();
    if (this.handler !== undefined) {
      const e = PingoraError.explain(ErrorType.ConnectionClosed, 'upstream connection closed').asUp();
      if (this.parser.awaitingFirstByte) e.setRetry('ReusedOnly');
      this.fail(e);
    } else {
      this.onIdleClose?.(this);
    }
  };

  private fail(e: PingoraError): void {
    const handler = this.handler;
    this.handler = undefined;
    this.kill();
    handler?.onError(e);
  }

  private kill(): void {
    this.dead = true;
    this.keepAlive = false;
    this.timers.clear();
    // A pool's idle timer may outlive a reuse; a closed connection needs it no more.
    this.idleTimer?.clear();
    if (!this.socket.destroyed) this.socket.destroy();
  }

  private detach(): void {
    const s = this.socket;
    s.off('data', this.onData);
    // The new owner reads the socket as a stream: direct reads now go into it, copied. A full
    // stream buffer (false) stops reading until the owner reads on.
    if (this.reads !== undefined) this.reads.sink = (chunk) => s.push(Buffer.from(chunk));
    s.off('end', this.onEnd);
    s.off('close', this.onClose);
    s.off('error', this.onSocketError);
    // The tunnel owner attaches its own handlers; keep a guard so a late error never throws.
    s.on('error', noop);
    this.timers.clear();
    this.dead = true;
  }

  private write(data: string | Buffer, encoding?: BufferEncoding): boolean {
    const ok = encoding === undefined ? this.socket.write(data) : this.socket.write(data, encoding);
    if (!ok) this.timers.armWrite(this.socket);
    return ok;
  }

  // While paused the downstream is the slow one, not the origin: no read timeout then.
  private readonly onTimeout = (kind: TimeoutKind): void => {
    if (this.handler === undefined || (kind === READ_TIMEOUT && this.paused)) return;
    this.fail(upstreamTimeoutError(kind, this.timers.timeouts));
  };
}

function noop(): void {}

/** The head as a `ResponseHeader`: the fields array is handed over, not copied. */
function responseHeaderOf(head: ParsedResponseHead): ResponseHeader {
  return ResponseHeader.fromRaw(
    head.status,
    head.rawHeaders,
    head.reason,
    head.minorVersion === 0 ? '1.0' : '1.1',
  );
}
