/**
 * Idle upstream connections, Pingora's `ConnectionPool`: one global bound on idle connections
 * across all peers (the oldest is closed when it is full), a LIFO stack per pool key so the most
 * recently used connection is reused first and cold ones age out, and an idle timeout per entry.
 * A connection that sees data, EOF or an error while idle removes itself immediately.
 */
import { type FastTimer, fastTimeout } from '@pingora-ts/timeout';
import type { H1ClientSession } from '../protocols/h1-client.js';

interface Entry {
  session: H1ClientSession;
  timer: FastTimer | undefined;
}

/** A bounded pool of idle keep-alive connections. */
export class ConnectionPool {
  private readonly byKey = new Map<string, Entry[]>();
  // Insertion-ordered: the first entry is the oldest idle connection, evicted when the pool is full.
  private readonly lru = new Set<Entry>();
  private readonly entries = new WeakMap<H1ClientSession, Entry>();

  /** @param maxIdle Most idle connections kept across all keys (`upstream_keepalive_pool_size`). */
  constructor(readonly maxIdle = 128) {}

  /** Idle connections held now. */
  get size(): number {
    return this.lru.size;
  }

  /** Takes the most recently released live connection for `key`, if any. */
  get(key: string): H1ClientSession | undefined {
    const stack = this.byKey.get(key);
    if (stack === undefined) return undefined;
    while (stack.length > 0) {
      const e = stack.pop()!;
      this.forget(e);
      if (e.session.reusable) return e.session;
      e.session.destroy();
    }
    return undefined;
  }

  /**
   * Keeps `session` for reuse for up to `idleTimeoutMs` (`Infinity` = until the origin closes it,
   * `0` = not at all). Returns whether it was pooled; if not, it was closed.
   */
  put(session: H1ClientSession, idleTimeoutMs: number): boolean {
    if (!session.reusable || idleTimeoutMs <= 0 || this.maxIdle === 0) {
      session.destroy();
      return false;
    }
    if (this.lru.size >= this.maxIdle) {
      const oldest = this.lru.values().next().value as Entry;
      this.remove(oldest.session);
      oldest.session.destroy();
    }
    const e: Entry = { session, timer: undefined };
    if (Number.isFinite(idleTimeoutMs)) e.timer = fastTimeout(this.onIdleTimeout, idleTimeoutMs, session);
    session.onIdleClose = this.onIdleClose;
    this.entries.set(session, e);
    this.lru.add(e);
    const stack = this.byKey.get(session.reuseKey);
    if (stack === undefined) this.byKey.set(session.reuseKey, [e]);
    else stack.push(e);
    return true;
  }

  /** Drops `session` from the pool without closing it. */
  remove(session: H1ClientSession): void {
    const e = this.entries.get(session);
    if (e === undefined) return;
    const stack = this.byKey.get(session.reuseKey);
    if (stack !== undefined) {
      const i = stack.indexOf(e);
      if (i >= 0) stack.splice(i, 1);
      if (stack.length === 0) this.byKey.delete(session.reuseKey);
    }
    this.forget(e);
  }

  /** Closes every idle connection. */
  closeAll(): void {
    for (const e of [...this.lru]) {
      this.remove(e.session);
      e.session.destroy();
    }
  }

  private forget(e: Entry): void {
    e.timer?.clear();
    e.session.onIdleClose = undefined;
    this.lru.delete(e);
    this.entries.delete(e.session);
  }

  // One bound handler for every pooled connection: releasing a connection allocates no closure.
  private readonly onIdleClose = (session: H1ClientSession): void => this.remove(session);

  private readonly onIdleTimeout = (session: H1ClientSession): void => {
    this.remove(session);
    session.destroy();
  };
}
