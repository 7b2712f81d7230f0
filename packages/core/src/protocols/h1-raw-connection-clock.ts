/**
 * The clock of one raw-engine HTTP/1.x connection and how it closes: one timer for the phase it
 * is in (the head timeout while a head is arriving, the keep-alive timeout while idle, the drain
 * bound while an unread body is dropped, the lingering bound while it closes), the request timeout
 * (from a request's start, the connection's for the first one, until its body is in), the 408 a
 * timeout answers with, and the lingering close that keeps a closing connection reading until the
 * client is done sending.
 */
import type { Socket } from 'node:net';
import { type FastTimer, fastTimeout } from '@pingora-ts/timeout';
import { H1RawConnectionFlags } from './h1-raw-connection-flags.js';
import { closingResponse } from './h1-raw-refusal.js';
import type { H1RawServer } from './h1-raw-server.js';
import type { H1RawSession } from './h1-raw-session.js';

export const TIMER_NONE = 0;
export const TIMER_HEAD = 1;
export const TIMER_IDLE = 2;
export const TIMER_DRAIN = 3;
export const TIMER_LINGER = 4;

/** @internal The timers and closing of `H1RawConnection`, with the state they act on. */
export abstract class H1RawConnectionClock extends H1RawConnectionFlags {
  session: H1RawSession | undefined = undefined;
  protected buf: Buffer | undefined = undefined;
  protected timer: FastTimer | undefined = undefined;
  protected timerKind = TIMER_NONE;
  private requestTimer: FastTimer | undefined = undefined;
  // While lingering: the time (performance.now()) past which it closes whatever still arrives.
  private lingerUntil = 0;

  constructor(
    readonly socket: Socket,
    protected readonly server: H1RawServer,
  ) {
    super();
  }

  /** Between requests with nothing of the next one received. */
  get idle(): boolean {
    return this.session === undefined && this.buf === undefined && !this.takenOver;
  }

  /** Graceful shutdown: close now if idle or lingering, else after the response in progress. */
  closeIfIdle(): void {
    if ((this.idle || this.timerKind === TIMER_LINGER) && !this.socket.destroyed) this.socket.destroy();
  }

  // --- timer: one per connection, for the phase it is in ---

  protected arm(kind: number, ms: number): void {
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
    if (ms > 0) this.timer = fastTimeout(H1RawConnectionClock.onTimer, ms, this);
  }

  // Between a head and the response's end no phase timer runs: the timer stays pending, parked,
  // for the next arm to restart; if it runs out first it fires as a no-op.
  protected park(): void {
    this.timerKind = TIMER_NONE;
  }

  private static onTimer(c: H1RawConnectionClock): void {
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
      c.stopRequestClock();
      if (answer) {
        c.closeWith(closingResponse(408), true);
        return;
      }
      c.closing = true;
      s.destroy();
      return;
    }
    // Idle past the keep-alive timeout, an unread body not drained in time, or lingering done.
    s.destroy();
  }

  // A request starts (its first byte; the connection's start for the first one): node:http's
  // `requestTimeout` counts from here until the whole request, body included, is in.
  protected startRequestClock(): void {
    const ms = this.server.requestTimeout;
    if (ms > 0 && this.requestTimer === undefined)
      this.requestTimer = fastTimeout(H1RawConnectionClock.onRequestTimer, ms, this);
  }

  protected stopRequestClock(): void {
    const t = this.requestTimer;
    if (t === undefined) return;
    t.clear();
    this.requestTimer = undefined;
  }

  private static onRequestTimer(c: H1RawConnectionClock): void {
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
    if (answer) {
      c.session?.connectionAnswered();
      c.closeWith(closingResponse(408), true);
      return;
    }
    c.closing = true;
    c.buf = undefined;
    c.session?.clientClosed();
    s.destroy();
  }

  /**
   * Sends a connection's last bytes and closes it. While the client may still be sending (a body
   * not read, a head cut short, pipelined requests), closing at once would make the kernel answer
   * its next bytes with a reset, and a reset can take the response with it before the client has
   * read it (or fail the client's write first). So, with `linger`, only the write side is shut and
   * what arrives is dropped until the client closes too, or `lingeringTimeout` passes without a
   * byte, or `lingeringTime` in all.
   */
  protected closeWith(last: string | undefined, linger: boolean): void {
    this.closing = true;
    this.buf = undefined;
    const s = this.socket;
    if (last === undefined) s.end();
    else s.end(last);
    const idleMs = this.server.lingeringTimeout;
    if (!linger || idleMs <= 0 || this.clientEnded) {
      s.destroySoon();
      return;
    }
    this.lingerUntil = performance.now() + this.server.lingeringTime;
    this.arm(TIMER_LINGER, idleMs);
    s.resume();
  }

  // A byte arrived while lingering: dropped, and the wait for the next one starts again.
  protected lingerRead(): void {
    if (performance.now() >= this.lingerUntil) this.socket.destroy();
    else this.arm(TIMER_LINGER, this.server.lingeringTimeout);
  }
}
