/**
 * One downstream HTTP/1.x connection of the raw-socket engine: feeds the socket's bytes to an
 * `H1RequestParser`, one request at a time (pipelined requests wait, in order, until the response
 * before them is finished), makes an {@link H1RawSession} per request, and moves the connection
 * between its phases (head, body, response, idle, closing); its timers and the way it closes are
 * in h1-raw-connection-clock.ts.
 */
import type { Socket } from 'node:net';
import { toOriginForm, withoutH2cUpgrade } from '../apps/h1-request-target.js';
import type { SocketAddr } from '../socket-addr.js';
import {
  H1RawConnectionClock,
  TIMER_DRAIN,
  TIMER_HEAD,
  TIMER_IDLE,
  TIMER_LINGER,
  TIMER_NONE,
} from './h1-raw-connection-clock.js';
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
import { remoteAddr } from './server-session-io.js';

/** @internal The raw engine's state for one socket. */
export class H1RawConnection extends H1RawConnectionClock implements RequestParserSink, RawSessionOwner {
  // Made when a request's first bytes arrive and dropped once it is served with nothing after it:
  // an idle keep-alive connection holds no parser.
  private parser: H1RequestParser | undefined = undefined;
  private off = 0;
  private requests = 0;
  private nextIdleMs = 0;
  private toDispatch: H1RawSession | undefined = undefined;
  // Read from the socket on first use and kept: an access line per request asks for it.
  private peer: SocketAddr | undefined = undefined;

  constructor(socket: Socket, server: H1RawServer) {
    super(socket, server);
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

  clientAddr(): SocketAddr | undefined {
    if (this.peer === undefined) this.peer = remoteAddr(this.socket);
    return this.peer;
  }

  get options(): H1SessionOptions {
    return this.server.sessionOptions;
  }

  get keepaliveMs(): number {
    return this.server.keepaliveMs;
  }

  // --- input ---

  /** @internal The socket's 'data'. */
  onData(chunk: Buffer): void {
    // After a refusal or a last response nothing more is parsed; the close is on its way.
    if (this.closing) {
      if (this.timerKind === TIMER_LINGER) this.lingerRead();
      return;
    }
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
      // No further request is read: what the client sends next is not ours to parse. It lingers
      // when the client may still be sending: the body's rest, or requests pipelined after it.
      // A reader still waiting for that body hears now that it will not come, not when the
      // linger ends.
      if (!this.reqDone) session.clientClosed();
      this.closeWith(undefined, !this.reqDone || this.buf !== undefined);
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
    if (this.timerKind === TIMER_LINGER) {
      // The client is done sending: the close waits only for the response to be flushed.
      this.socket.destroySoon();
      return;
    }
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
    if (busy || !s.writable) {
      this.session?.clientClosed();
      s.destroy();
      return;
    }
    this.session?.connectionAnswered();
    this.closeWith(closingResponse(e.status), true);
  }

  private endWith(status: number): void {
    this.closeWith(closingResponse(status), true);
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
