/**
 * Upstream HTTP/2 connections, pooled the way Pingora does: a connection with open streams and a
 * free slot sits in the in-use pool, where new requests share it first; one with no open stream
 * moves to the idle pool, bounded across all peers and aged out by its idle timeout. A connection
 * that can take no more streams (full, draining after GOAWAY, closed, or dead) is in neither, so a
 * stale session is never handed out: the caller opens a fresh one instead.
 */
import { type FastTimer, fastTimeout } from '@pingora-ts/timeout';
import type { H2ClientSession } from '../protocols/h2-client.js';
import type { H2ClientConnection } from '../protocols/h2-connection.js';

interface State {
  idleMs: number;
  timer: FastTimer | undefined;
  idle: boolean;
  withFreeSlot: boolean;
}

/** HTTP/2 connections by pool key. */
export class H2ConnectionPool {
  // Connections with open streams and room for more, per key.
  private readonly inUse = new Map<string, Set<H2ClientConnection>>();
  // Idle connections per key (LIFO: the most recently used is reused first) and across keys (LRU).
  private readonly idleByKey = new Map<string, H2ClientConnection[]>();
  private readonly idleLru = new Set<H2ClientConnection>();
  private readonly live = new Map<H2ClientConnection, State>();
  private closed = false;

  /** @param maxIdle Most idle HTTP/2 connections kept across all keys. */
  constructor(readonly maxIdle = 128) {}

  /** Idle connections held now. */
  get idleSize(): number {
    return this.idleLru.size;
  }

  /** Connections known to the pool (busy or idle). */
  get size(): number {
    return this.live.size;
  }

  /**
   * Tracks a connection the connector just opened (its first stream is usually reserved already).
   * `idleTimeoutMs` bounds its idle time (`Infinity` = until the origin closes it, 0 = never pooled).
   */
  add(conn: H2ClientConnection, idleTimeoutMs: number): void {
    this.live.set(conn, { idleMs: idleTimeoutMs, timer: undefined, idle: false, withFreeSlot: false });
    conn.onChange = this.onChange;
    this.onChange(conn);
  }

  /** A stream on a pooled connection for `key`, or `undefined` when none has a free slot. */
  acquire(key: string): H2ClientSession | undefined {
    const busy = this.inUse.get(key);
    if (busy !== undefined) {
      for (const c of busy) {
        // reserve() re-files the connection through onChange (full ones leave the in-use set).
        if (c.hasFreeSlot) return c.reserve(true);
        this.onChange(c);
      }
    }
    const stack = this.idleByKey.get(key);
    while (stack !== undefined && stack.length > 0) {
      const c = stack[stack.length - 1]!;
      const st = this.live.get(c)!;
      this.unIdle(c, st);
      if (!c.usable) {
        this.forget(c);
        c.destroy();
        continue;
      }
      return c.reserve(true);
    }
    return undefined;
  }

  /** Closes idle connections now and busy ones as their streams finish; nothing is pooled after. */
  closeAll(): void {
    this.closed = true;
    for (const c of [...this.live.keys()]) {
      if (c.active === 0) {
        this.forget(c);
        c.destroy();
      } else {
        c.close();
      }
    }
  }

  // Re-files a connection after its slots, settings or health changed.
  private readonly onChange = (c: H2ClientConnection): void => {
    const st = this.live.get(c);
    if (st === undefined) return;
    if (!c.usable || this.closed) {
      this.forget(c);
      if (c.active === 0) c.destroy();
      else c.close();
      return;
    }
    if (c.active > 0) {
      if (st.idle) this.unIdle(c, st);
      this.setFreeSlot(c, st, c.active < c.capacity);
      return;
    }
    if (st.idle) return;
    this.setFreeSlot(c, st, false);
    if (st.idleMs <= 0 || this.maxIdle === 0) {
      this.forget(c);
      c.close();
      return;
    }
    if (this.idleLru.size >= this.maxIdle) {
      const oldest = this.idleLru.values().next().value as H2ClientConnection;
      this.forget(oldest);
      oldest.close();
    }
    st.idle = true;
    this.idleLru.add(c);
    const stack = this.idleByKey.get(c.reuseKey);
    if (stack === undefined) this.idleByKey.set(c.reuseKey, [c]);
    else stack.push(c);
    if (Number.isFinite(st.idleMs)) st.timer = fastTimeout(this.onIdleTimeout, st.idleMs, c);
  };

  private readonly onIdleTimeout = (c: H2ClientConnection): void => {
    const st = this.live.get(c);
    if (st === undefined || !st.idle) return;
    this.forget(c);
    c.close();
  };

  private setFreeSlot(c: H2ClientConnection, st: State, free: boolean): void {
    if (st.withFreeSlot === free) return;
    st.withFreeSlot = free;
    const set = this.inUse.get(c.reuseKey);
    if (free) {
      if (set === undefined) this.inUse.set(c.reuseKey, new Set([c]));
      else set.add(c);
    } else if (set !== undefined) {
      set.delete(c);
      if (set.size === 0) this.inUse.delete(c.reuseKey);
    }
  }

  private unIdle(c: H2ClientConnection, st: State): void {
    if (!st.idle) return;
    st.idle = false;
    st.timer?.clear();
    st.timer = undefined;
    this.idleLru.delete(c);
    const stack = this.idleByKey.get(c.reuseKey);
    if (stack !== undefined) {
      const i = stack.lastIndexOf(c);
      if (i >= 0) stack.splice(i, 1);
      if (stack.length === 0) this.idleByKey.delete(c.reuseKey);
    }
  }

  private forget(c: H2ClientConnection): void {
    const st = this.live.get(c);
    if (st === undefined) return;
    this.unIdle(c, st);
    this.setFreeSlot(c, st, false);
    this.live.delete(c);
    c.onChange = undefined;
  }
}
