/**
 * One downstream HTTP/1.x connection of the raw-socket engine: feeds the socket's bytes to an
 * `H1RequestParser`, one request at a time (pipelined requests wait, in order, until the response
 * before them is finished), makes an {@link H1RawSession} per request, and owns the connection's
 * timers: one for the phase it is in (the head timeout while a head is arriving, the keep-alive
 * timeout while idle, the drain bound while an unread body is dropped), and the request timeout,
 * which runs from a request's start (the connection's, for the first one) until its body is in.
 */
import type { Socket } from 'node:net';
import { type FastTimer, fastTimeout } from '@pingora-ts/timeout';
import { toOriginForm, withoutH2cUpgrade } from '../apps/h1-request-target.js';
import { H1RawConnectionFlags } from './h1-raw-connection-flags.js';
import { closingResponse, refusalReason } from './h1-raw-refusal.js';
import type { H1RawServer } from './h1-raw-server.js';
import { H1RawSession, type RawRequestHead, type RawSessionOwner } from './h1-raw-session.js';
import {
  EXPECT_CONTINUE,
  EXPECT_OTHER,
  H1RequestError,
  H1RequestParser,
  type ParsedRequestHead,
  type RequestParserSink,
} from './h1-request-parser.js';
import type { H1SessionOptions } from './h1-server-session.js';

const TIMER_NONE = 0;
const TIMER_HEAD = 1;
const TIMER_IDLE = 2;
const TIMER_DRAIN = 3;

/** @internal The raw engine's state for one socket. */
export class H1RawConnection extends H1RawConnectionFlags implements RequestParserSink, RawSessionOwner {
  // Made when a request's first bytes arrive and dropped once it is served with nothing after it:
  // an idle keep-alive connection holds no parser.
  private parser: H1RequestParser | undefined = undefined;
  session: H1RawSession | undefined = undefined;
  private buf: Buffer | undefined = undefined;
  private off = 0;
  private requests = 0;
  private nextIdleMs = 0;
  private toDispatch: H1RawSession | undefined = undefined;
  private timer: FastTimer | undefined = undefined;
  private timerKind = TIMER_NONE;
  private requestTimer: FastTimer | undefined = undefined;

  constructor(
    readonly socket: Socket,
    private readonly server: H1RawServer,
  ) {
    super();
    // The listeners are shared by every connection (`this` is the socket, which points back here):
    // no closures per connection.
    (socket as RawSocket)[CONNECTION] = this;
    socket.on('data', onSocketData);
    socket.on('end', onSocketEnd);
    socket.on('close', onSocketClose);
    socket.on('error', noop);
    this.arm(TIMER_HEAD, server.headersTimeout);
    this.startRequestClock();
  }

  get options(): H1SessionOptions {
    return this.server.sessionOptions;
  }

  get keepaliveMs(): number {
    return this.server.keepaliveMs;
  }

  /** Between requests with nothing of the next one received. */
  get idle(): boolean {
    return this.session === undefined && this.buf === undefined && !this.takenOver;
  }

  /** Graceful shutdown: close now if idle, else after the response in progress. */
  closeIfIdle(): void {
    if (this.idle && !this.socket.destroyed) this.socket.destroy();
  }

  // --- timer: one per connection, for the phase it is in ---

  private arm(kind: number, ms: number): void {
    this.timerKind = kind;
    const t = this.timer;
    // A timer still pending with the same duration (idle and head timeouts are both 60 s by
    // default) is restarted in place: one store per request instead of a new timer.
    if (t !== undefined && ms > 0 && t.ms === ms && t.pending) {
      t.refresh();
      return;
    }
    t?.clear();
    this.timer = undefined;
    if (ms > 0) this.timer = fastTimeout(H1RawConnection.onTimer, ms, this);
  }

  // Between a head and the response's end no phase timer runs: the timer stays pending, parked,
  // for the next arm to restart; if it runs out first it fires as a no-op.
  private park(): void {
    this.timerKind = TIMER_NONE;
  }

  private static onTimer(c: H1RawConnection): void {
    c.timer = undefined;
    const s = c.socket;
    if (s.destroyed || c.timerKind === TIMER_NONE) return;
    if (c.timerKind === TIMER_HEAD) {
      // A pipelined response still on its way leaves no room for a 408: the connection just closes.
      const answer = c.session === undefined && s.writable;
      c.server.logger.warn(
        {
          client: s.remoteAddress,
          status: answer ? 408 : undefined,
          headersTimeout: c.server.headersTimeout,
        },
        `request head not received within ${c.server.headersTimeout} ms; connection closed`,
      );
      // One answer: the request timeout, due in the same bucket when both are equal, stands down.
      c.closing = true;
      c.stopRequestClock();
      if (answer) {
        s.end(closingResponse(408));
        s.destroySoon();
      } else s.destroy();
      return;
    }
    // Idle past the keep-alive timeout, or an unread body not drained in time.
    s.destroy();
  }

  // A request starts (its first byte; the connection's start for the first one): node:http's
  // `requestTimeout` counts from here until the whole request, body included, is in.
  private startRequestClock(): void {
    const ms = this.server.requestTimeout;
    if (ms > 0 && this.requestTimer === undefined)
      this.requestTimer = fastTimeout(H1RawConnection.onRequestTimer, ms, this);
  }

  private stopRequestClock(): void {
    const t = this.requestTimer;
    if (t === undefined) return;
    t.clear();
    this.requestTimer = undefined;
  }

  private static onRequestTimer(c: H1RawConnection): void {
    c.requestTimer = undefined;
    const s = c.socket;
    // Closing already (a refusal or a last response on its way out): nothing to add or cut.
    if (s.destroyed || c.takenOver || c.closing) return;
    c.timer?.clear();
    c.timer = undefined;
    // 408 while nothing of a response has gone out; past that the connection just closes.
    const answer = c.session?.responseWritten() === undefined && s.writable;
    const ms = c.server.requestTimeout;
    c.server.logger.warn(
      { client: s.remoteAddress, status: answer ? 408 : undefined, requestTimeout: ms },
      `request not received within ${ms} ms; connection closed`,
    );
    c.closing = true;
    c.buf = undefined;
    c.session?.clientClosed();
    if (answer) {
      s.end(closingResponse(408));
      s.destroySoon();
    } else s.destroy();
  }

  // --- input ---

  /** @internal The socket's 'data'. */
  onData(chunk: Buffer): void {
    // After a refusal or a last response nothing more is parsed; the close is on its way.
    if (this.closing) return;
    if (this.buf !== undefined) {
      this.buf = Buffer.concat([this.buf.subarray(this.off), chunk]);
      this.off = 0;
    } else {
      this.buf = chunk;
      this.off = 0;
    }
    this.pump();
  }

  /** Parses what is buffered until a request needs its response first, or the input runs out. */
  pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.buf !== undefined && !this.takenOver && !this.closing) {
        const s = this.session;
        if (s !== undefined && (this.reqDone || s.body.blocked)) break;
        if (s === undefined && this.timerKind === TIMER_IDLE) {
          this.arm(TIMER_HEAD, this.server.headersTimeout);
          this.startRequestClock();
        }
        const buf = this.buf;
        let parser = this.parser;
        if (parser === undefined) this.parser = parser = new H1RequestParser(this, this.server.limits);
        let off: number;
        try {
          off = parser.execute(buf, this.off);
        } catch (e) {
          this.refuse(e);
          return;
        }
        if (off >= buf.length) this.buf = undefined;
        else this.off = off;
        const up = this.upgrade;
        if (up !== undefined) {
          // The bytes after an upgrade head belong to the tunnel, as node's upgrade `head`.
          this.upgrade = undefined;
          if (off < buf.length) up.head = buf.subarray(off);
          this.buf = undefined;
        }
        const d = this.toDispatch;
        if (d !== undefined) {
          this.toDispatch = undefined;
          if (this.refuseExpectation) {
            this.refuseExpectation = false;
            d.respondError(417);
          } else this.server.dispatch(d);
        }
        if (this.session !== undefined && this.reqDone && this.respDone) this.next();
      }
    } finally {
      this.pumping = false;
    }
    if (this.takenOver || this.closing) return;
    if (this.clientEnded && this.buf === undefined) {
      this.checkEof();
      return;
    }
    const s = this.session;
    const hold = this.buf !== undefined || (s?.body.blocked === true && !this.reqDone);
    if (hold) this.socket.pause();
    else this.socket.resume();
  }

  bodyWanted(): void {
    if (!this.pumping) this.pump();
  }

  // --- parser sink ---

  onHead(head: ParsedRequestHead): boolean {
    this.park();
    this.reqDone = false;
    this.respDone = false;
    const req: RawRequestHead = {
      method: head.method,
      url: head.target,
      minorVersion: head.minorVersion,
      rawHeaders: head.rawHeaders,
    };
    if (head.targetForm === 'absolute') {
      const bad = toOriginForm(req as never);
      if (bad !== undefined) throw new H1RequestError(400, 'target', bad);
    }
    let upgrade = head.upgrade;
    // Only h2c offered: the request is served as a plain one, never tunnelled (see http-app.ts).
    if (head.hasUpgradeField && head.method !== 'CONNECT' && withoutH2cUpgrade(req as never)) upgrade = false;
    if (head.method === 'CONNECT' && !this.server.allowConnect) {
      this.server.logger.warn({ method: head.method, url: head.target }, 'CONNECT refused (405)');
      this.endWith(405);
      return true;
    }
    this.headKeepAlive = head.keepAlive;
    if (head.expect === EXPECT_OTHER) {
      // An expectation we cannot meet: 417 before any phase, as node:http answers it; the body
      // (never sent by a client that waits) is drained like any unread one.
      const refused = new H1RawSession(this, req, head.framing !== 'none', false, undefined);
      this.session = refused;
      this.toDispatch = refused;
      this.refuseExpectation = true;
      return false;
    }
    if (upgrade) {
      this.takenOver = true;
      this.detach();
      const up = { socket: this.socket, head: EMPTY };
      this.upgrade = up;
      // Its body (if framed) is read off the socket by whoever takes it, as node:http's upgrade path.
      const session = new H1RawSession(this, req, head.framing !== 'none', false, up);
      this.session = session;
      this.toDispatch = session;
      return true;
    }
    const session = new H1RawSession(
      this,
      req,
      head.framing !== 'none',
      head.expect === EXPECT_CONTINUE,
      undefined,
    );
    this.session = session;
    this.toDispatch = session;
    return false;
  }

  onBody(chunk: Buffer): void {
    this.session?.onBodyChunk(chunk);
  }

  onTrailers(rawTrailers: string[]): void {
    this.pendingTrailers = rawTrailers;
  }

  private pendingTrailers: string[] | undefined = undefined;
  private upgrade: { socket: Socket; head: Buffer } | undefined = undefined;

  onComplete(): void {
    this.reqDone = true;
    this.stopRequestClock();
    const t = this.pendingTrailers;
    this.pendingTrailers = undefined;
    if (this.timerKind === TIMER_DRAIN) this.park();
    this.session?.onBodyEnd(t);
  }

  // --- session owner ---

  keepAliveAllowed(_session: H1RawSession): boolean {
    const limit = this.server.requestLimit;
    return this.headKeepAlive && !this.server.draining && (limit === undefined || this.requests + 1 < limit);
  }

  requestComplete(_session: H1RawSession): boolean {
    return this.reqDone;
  }

  responseDone(
    session: H1RawSession,
    keepAlive: boolean,
    keepaliveMs: number,
    drainMs: number | undefined,
  ): void {
    // A cut connection (abort, write timeout) keeps its session: its close tells the waiters.
    if (session !== this.session || this.socket.destroyed) return;
    this.respDone = true;
    this.nextKeepAlive = keepAlive;
    this.nextIdleMs = keepaliveMs;
    if (!keepAlive) {
      // No further request is read: what the client sends next is not ours to parse.
      this.closing = true;
      this.socket.end();
      this.socket.destroySoon();
      return;
    }
    if (!this.reqDone) {
      // The rest of the body is read and dropped so the next request can be parsed, within a bound.
      this.arm(TIMER_DRAIN, drainMs ?? 0);
      this.pump();
      return;
    }
    if (!this.pumping) {
      this.next();
      this.pump();
    }
  }

  // The request and its response are both complete: on to the next one.
  private next(): void {
    this.session = undefined;
    this.requests++;
    if (!this.nextKeepAlive) return;
    // Nothing of the next request is here: its parser starts fresh when it comes.
    if (this.buf === undefined) this.parser = undefined;
    if (this.clientEnded && this.buf === undefined) {
      // The client sent its last request and half-closed: nothing more will come.
      this.closing = true;
      this.socket.end();
      return;
    }
    if (this.buf === undefined) this.arm(TIMER_IDLE, this.nextIdleMs);
    else {
      this.arm(TIMER_HEAD, this.server.headersTimeout);
      this.startRequestClock();
    }
  }

  // --- endings ---

  /**
   * @internal The socket's 'end': the client half-closed. Bytes still buffered (pipelined, or held
   * by backpressure) are served first.
   */
  onEnd(): void {
    this.clientEnded = true;
    if (this.buf === undefined && !this.pumping) this.checkEof();
  }

  private checkEof(): void {
    try {
      this.parser?.eof();
    } catch {
      // Mid-request: the body cannot complete; there is no one left to answer.
      this.session?.clientClosed();
      this.closing = true;
      this.socket.destroy();
      return;
    }
    if (this.session === undefined && !this.closing) {
      this.closing = true;
      this.socket.end();
    }
  }

  /** @internal The socket's 'close'. */
  onClose(): void {
    this.timer?.clear();
    this.timer = undefined;
    this.stopRequestClock();
    this.server.forget(this);
    this.session?.clientClosed();
  }

  // The refusal of a malformed request: answered with its status unless a response is under way.
  private refuse(e: unknown): void {
    this.closing = true;
    const s = this.socket;
    if (!(e instanceof H1RequestError)) {
      this.buf = undefined;
      this.server.logger.error({ err: e, client: s.remoteAddress }, 'HTTP/1 connection failed');
      s.destroy();
      return;
    }
    const busy = this.session !== undefined && this.session.responseWritten() !== undefined;
    const why = refusalReason(e, this.buf, this.off);
    this.server.logger.warn(
      { reason: e.rejection, client: s.remoteAddress, status: busy ? undefined : e.status },
      busy ? `dropped connection with malformed request data: ${why}` : `rejected malformed request: ${why}`,
    );
    this.buf = undefined;
    this.session?.clientClosed();
    if (busy || !s.writable) {
      s.destroy();
      return;
    }
    s.end(closingResponse(e.status));
    s.destroySoon();
  }

  private endWith(status: number): void {
    this.closing = true;
    this.buf = undefined;
    this.socket.end(closingResponse(status));
    this.socket.destroySoon();
  }

  // An upgrade takes the socket: the bytes after the head go back to it for the tunnel's reader.
  private detach(): void {
    this.socket.off('data', onSocketData);
    this.socket.off('end', onSocketEnd);
    this.timer?.clear();
    this.timerKind = TIMER_NONE;
    this.stopRequestClock();
    this.server.forget(this);
    // Neither paused nor flowing: the tunnel's first 'data' listener (or pipe) starts the flow.
    (this.socket as { readableFlowing: boolean | null }).readableFlowing = null;
  }
}

const EMPTY = Buffer.alloc(0);

const CONNECTION = Symbol('pingora-ts.h1RawConnection');
type RawSocket = Socket & { [CONNECTION]: H1RawConnection };

function onSocketData(this: RawSocket, chunk: Buffer): void {
  this[CONNECTION].onData(chunk);
}

function onSocketEnd(this: RawSocket): void {
  this[CONNECTION].onEnd();
}

function onSocketClose(this: RawSocket): void {
  this[CONNECTION].onClose();
}

function noop(): void {}
