/**
 * Idle upstream connections, Pingora's `ConnectionPool`: one global bound on idle connections
 * across all peers (the oldest is closed when it is full), a LIFO stack per pool key so the most
 * recently used connection is reused first and cold ones age out, and an idle timeout per entry.
 * A connection that sees data, EOF or an error while idle removes itself immediately.
 *
 * The bookkeeping lives on the connection itself ({@link PoolLinks}): the idle order is an
 * intrusive list and the idle timer stays with the connection across reuses, refreshed at each
 * release instead of armed anew, so a take-and-give-back cycle allocates nothing.
 */
import { type FastTimer, fastTimeout } from '@pingora-ts/timeout';
import type { H1ClientSession } from '../protocols/h1-client.js';

/**
 * @internal What the pool keeps on a connection: its neighbours in the idle order (oldest first),
 * whether it is idle in a pool now, and its idle timer. Only the pool writes these.
 */
export interface PoolLinks {
  poolPrev: H1ClientSession | undefined;
  poolNext: H1ClientSession | undefined;
  pooled: boolean;
  /** May still be pending while the connection is in use: it then fires as a no-op (see put). */
  idleTimer: FastTimer | undefined;
}

/** A bounded pool of idle keep-alive connections. */
export class ConnectionPool {
  private readonly byKey = new Map<string, H1ClientSession[]>();
  // The idle order: `oldest` is evicted when the pool is full.
  private oldest: H1ClientSession | undefined = undefined;
  private newest: H1ClientSession | undefined = undefined;
  private count = 0;

  /** @param maxIdle Most idle connections kept across all keys (`upstream_keepalive_pool_size`). */
  constructor(readonly maxIdle = 128) {}

  /** Idle connections held now. */
  get size(): number {
    return this.count;
  }

  /** Takes the most recently released live connection for `key`, if any. */
  get(key: string): H1ClientSession | undefined {
    const stack = this.byKey.get(key);
    if (stack === undefined) return undefined;
    while (stack.length > 0) {
      const s = stack.pop()!;
      this.unlink(s);
      // The idle timer is left running: the next release refreshes it (one store), and if it
      // fires first it finds the connection in use and does nothing.
      if (s.reusable) return s;
      s.destroy();
    }
    return undefined;
  }

  /**
   * Keeps `session` for reuse for up to `idleTimeoutMs` (`Infinity` = until the origin closes it,
   * `0` = not at all). Returns whether it was pooled; if not, it was closed.
   */
  put(session: H1ClientSession, idleTimeoutMs: number): boolean {
    if (session.pooled) return true;
    if (!session.reusable || idleTimeoutMs <= 0 || this.maxIdle === 0) {
      session.destroy();
      return false;
    }
    if (this.count >= this.maxIdle) {
      const oldest = this.oldest!;
      this.remove(oldest);
      oldest.destroy();
    }
    const t = session.idleTimer;
    if (!Number.isFinite(idleTimeoutMs)) {
      t?.clear();
      session.idleTimer = undefined;
    } else if (t?.pending && t.ms === idleTimeoutMs) {
      t.refresh();
    } else {
      t?.clear();
      session.idleTimer = fastTimeout(this.onIdleTimeout, idleTimeoutMs, session);
    }
    session.onIdleClose = this.onIdleClose;
    session.pooled = true;
    session.poolPrev = this.newest;
    session.poolNext = undefined;
    if (this.newest === undefined) this.oldest = session;
    else this.newest.poolNext = session;
    this.newest = session;
    this.count++;
    const stack = this.byKey.get(session.reuseKey);
    if (stack === undefined) this.byKey.set(session.reuseKey, [session]);
    else stack.push(session);
    return true;
  }

  /** Drops `session` from the pool without closing it. */
  remove(session: H1ClientSession): void {
    if (!session.pooled) return;
    const stack = this.byKey.get(session.reuseKey);
    if (stack !== undefined) {
      const i = stack.lastIndexOf(session);
      if (i >= 0) stack.splice(i, 1);
      if (stack.length === 0) this.byKey.delete(session.reuseKey);
    }
    this.unlink(session);
    session.idleTimer?.clear();
    session.idleTimer = undefined;
  }

  /** Closes every idle connection. */
  closeAll(): void {
    while (this.oldest !== undefined) {
      const s = this.oldest;
      this.remove(s);
      s.destroy();
    }
  }

  // Out of the idle order (the caller keeps or clears the idle timer).
  private unlink(s: H1ClientSession): void {
    const { poolPrev: prev, poolNext: next } = s;
    if (prev === undefined) this.oldest = next;
    else prev.poolNext = next;
    if (next === undefined) this.newest = prev;
    else next.poolPrev = prev;
    s.poolPrev = s.poolNext = undefined;
    s.pooled = false;
    s.onIdleClose = undefined;
    this.count--;
  }

  // One bound handler for every pooled connection: releasing a connection allocates no closure.
  private readonly onIdleClose = (session: H1ClientSession): void => this.remove(session);

  // A timer that outlived a reuse fires here too: a connection in use is not idle.
  private readonly onIdleTimeout = (session: H1ClientSession): void => {
    if (!session.pooled) return;
    this.remove(session);
    session.destroy();
  };
}
