/**
 * `RTCache`: Pingora's read-through cache. A miss runs the user's lookup and stores its result;
 * concurrent misses on one key are coalesced behind a per-key lock so only the first caller looks
 * up, and the others wait for it and read its result (`lock_hit`).
 *
 * Pingora's `Lookup`/`MultiLookup` traits become two optional functions of the options object (at
 * least one is required). Each returns `{ value, ttl? }`, sync or async. `extra` is Pingora's
 * `extra: Option<&S>`: per-call data handed to the lookup.
 */
import { ErrorType, PingoraError } from '@pingora-ts/error';
import type { TinyUfoKey } from '@pingora-ts/tinyufo';
import { CacheStatus } from './cache-status.js';
import { type Clock, monotonicClock } from './clock.js';
import { MemoryCache } from './memory-cache.js';

/** What a lookup produces: the value and, optionally, its own TTL in ms (overrides the caller's). */
export interface LookupResult<V> {
  value: V;
  ttl?: number | undefined;
}

/** Pingora's `Lookup` trait: fetch one value on a miss. */
export interface Lookup<K, V, S = undefined> {
  lookup(key: K, extra: S | undefined): LookupResult<V> | PromiseLike<LookupResult<V>>;
}

/** Pingora's `MultiLookup` trait: fetch many values in one call, one result per key, in order. */
export interface MultiLookup<K, V, S = undefined> {
  multiLookup(keys: K[], extra: S | undefined): LookupResult<V>[] | PromiseLike<LookupResult<V>[]>;
}

interface RTCacheTuning {
  /** A lock older than this (ms) is ignored: the caller looks up itself and does not store. */
  lockAge?: number | undefined;
  /** The longest (ms) a waiter waits for another caller's lookup before looking up itself. */
  lockTimeout?: number | undefined;
  /** Time source for TTLs and lock ages. Defaults to `performance.now()`. */
  clock?: Clock | undefined;
}

/** Options for {@link RTCache}: tuning plus a `lookup`, a `multiLookup`, or both. */
export type RTCacheOptions<K, V, S = undefined> = RTCacheTuning &
  ((Lookup<K, V, S> & Partial<MultiLookup<K, V, S>>) | (Partial<Lookup<K, V, S>> & MultiLookup<K, V, S>));

/** A value and how it was found. */
export type RTResult<V> = [value: V, status: CacheStatus];

const LOOKUP_ERR_MSG = 'RTCache: lookup error';

function lookupError(cause: unknown): PingoraError {
  return PingoraError.newStr(LOOKUP_ERR_MSG).setCause(cause);
}

interface CacheLock {
  start: number;
  done: Promise<void>;
  release(): void;
}

/**
 * A read-through cache with lookup coalescing.
 *
 * @example
 * ```ts
 * import { RTCache } from '@pingora-ts/memory-cache';
 *
 * const users = new RTCache<number, User>(10_000, {
 *   lockTimeout: 2_000,
 *   lookup: async (id) => ({ value: await db.user(id), ttl: 60_000 }),
 * });
 * const [user, status] = await users.get(42); // status: miss, then hit; lock_hit for waiters
 * ```
 */
export class RTCache<K extends TinyUfoKey, V, S = undefined> {
  private readonly inner: MemoryCache<K, V>;
  private readonly locks = new Map<string | number | bigint, CacheLock>();
  // Byte-array keys are locked by content, in a table of their own so they never meet strings.
  private readonly byteLocks = new Map<string, CacheLock>();
  private readonly lockAge: number | undefined;
  private readonly lockTimeout: number | undefined;
  private readonly clock: Clock;
  private readonly lookupFn: Lookup<K, V, S>['lookup'] | undefined;
  private readonly multiLookupFn: MultiLookup<K, V, S>['multiLookup'] | undefined;

  /** A cache of at most `size` entries. */
  constructor(size: number, options: RTCacheOptions<K, V, S>) {
    if (typeof options.lookup !== 'function' && typeof options.multiLookup !== 'function') {
      throw new TypeError('RTCache: options need a lookup or a multiLookup function');
    }
    this.clock = options.clock ?? monotonicClock;
    this.inner = new MemoryCache<K, V>(size, { clock: this.clock });
    this.lockAge = options.lockAge;
    this.lockTimeout = options.lockTimeout;
    this.lookupFn = options.lookup?.bind(options);
    this.multiLookupFn = options.multiLookup?.bind(options);
  }

  /**
   * The cached value, or the lookup's. `ttl` (ms) applies when the lookup returns none. Resolves
   * to `[value, status]`: `hit`; `miss` or `expired` for the caller that looked up; `lock_hit` for
   * one that waited for another caller's lookup. Rejects with a `PingoraError`
   * (`RTCache: lookup error`, the lookup's error as `cause`) when the lookup fails.
   */
  async get(key: K, ttl?: number, extra?: S): Promise<RTResult<V>> {
    const [cached, status] = this.inner.get(key);
    if (status === CacheStatus.Hit) return [cached as V, status];

    const [locks, lockKey] = this.lockTable(key);
    const existing = locks.get(lockKey);
    if (existing !== undefined) {
      if (this.tooOld(existing)) return this.lookupOnly(key, extra, status);
      return this.waitFor(existing, key, ttl, extra, status);
    }

    const lock = newLock(this.clock());
    locks.set(lockKey, lock);
    try {
      const result = await this.lookup(key, extra);
      this.inner.forcePut(key, result.value, result.ttl ?? ttl);
      return [result.value, status];
    } finally {
      // Wake the waiters and drop the lock, unless a newer writer already replaced it.
      lock.release();
      if (locks.get(lockKey) === lock) locks.delete(lockKey);
    }
  }

  /**
   * Serve a value even if it expired, as long as it expired at most `staleTtl` ms ago (status
   * `Stale(ms)`); otherwise {@link RTCache.get}.
   */
  async getStale(key: K, staleTtl: number, ttl?: number, extra?: S): Promise<RTResult<V>> {
    const [cached, status] = this.inner.getStale(key);
    if (status !== CacheStatus.Miss && (status.stale() ?? 0) <= staleTtl) return [cached as V, status];
    return this.get(key, ttl, extra);
  }

  /**
   * {@link RTCache.getStale}, and when it serves a stale value, refresh it in the background
   * (errors of that refresh are ignored, as in Pingora).
   */
  async getStaleWhileUpdate(key: K, staleTtl: number, ttl?: number, extra?: S): Promise<RTResult<V>> {
    const result = await this.getStale(key, staleTtl, ttl, extra);
    if (result[1].stale() !== undefined) this.get(key, ttl, extra).catch(() => {});
    return result;
  }

  /**
   * Values for many keys: hits from the cache, and every miss (missing or expired) fetched by one
   * `multiLookup` call and stored. Misses report status `miss`. No coalescing (two concurrent
   * calls may look up the same key), as in Pingora. A lookup error rejects the whole call, hits
   * included; so does a result count that differs from the number of misses. Without a
   * `multiLookup`, misses are fetched with `lookup`, concurrently.
   */
  async multiGet(keys: Iterable<K>, ttl?: number, extra?: S): Promise<RTResult<V>[]> {
    const [results, misses] = this.inner.multiGetWithMiss(keys);
    let fetched: LookupResult<V>[] = [];
    if (misses.length > 0) {
      try {
        fetched = this.multiLookupFn
          ? await this.multiLookupFn(misses, extra)
          : await Promise.all(misses.map((k) => this.lookupFn!(k, extra)));
      } catch (e) {
        throw lookupError(e);
      }
      if (!Array.isArray(fetched) || fetched.length !== misses.length) {
        throw PingoraError.explain(
          ErrorType.Custom(LOOKUP_ERR_MSG),
          `multiLookup() returned ${Array.isArray(fetched) ? fetched.length : 'no array'} results for ${misses.length} keys`,
        );
      }
      misses.forEach((k, i) => {
        this.inner.forcePut(k, fetched[i]!.value, fetched[i]!.ttl ?? ttl);
      });
    }
    let n = 0;
    return results.map(([value, status]) =>
      status.isHit() ? [value as V, status] : [fetched[n++]!.value, CacheStatus.Miss],
    );
  }

  /** Drop `key` from the cache (not in Pingora's RTCache; handy for invalidation). */
  remove(key: K): void {
    this.inner.remove(key);
  }

  // Another caller holds the lock: wait for it (at most lockTimeout), then read its result.
  private async waitFor(
    lock: CacheLock,
    key: K,
    ttl: number | undefined,
    extra: S | undefined,
    status: CacheStatus,
  ): Promise<RTResult<V>> {
    if (!(await settlesWithin(lock.done, this.lockTimeout))) {
      // Timed out: look up without storing, so a slow writer is not raced by many writes.
      return this.lookupOnly(key, extra, status);
    }
    const [cached, after] = this.inner.get(key);
    if (after === CacheStatus.Hit) return [cached as V, CacheStatus.LockHit];
    // The writer failed (or stored nothing): look up and store ourselves.
    const result = await this.lookup(key, extra);
    this.inner.forcePut(key, result.value, result.ttl ?? ttl);
    return [result.value, after];
  }

  private async lookupOnly(key: K, extra: S | undefined, status: CacheStatus): Promise<RTResult<V>> {
    const result = await this.lookup(key, extra);
    return [result.value, status];
  }

  private async lookup(key: K, extra: S | undefined): Promise<LookupResult<V>> {
    let result: LookupResult<V> | undefined;
    try {
      if (this.lookupFn) {
        result = await this.lookupFn(key, extra);
      } else {
        const results = await this.multiLookupFn!([key], extra);
        if (!Array.isArray(results) || results.length !== 1)
          throw new Error('multiLookup() must return one result');
        result = results[0];
      }
    } catch (e) {
      throw lookupError(e);
    }
    if (typeof result !== 'object' || result === null) {
      throw lookupError(new TypeError('a lookup must return { value, ttl? }'));
    }
    return result;
  }

  private lockTable(key: K): [Map<string | number | bigint, CacheLock>, string | number | bigint] {
    if (typeof key !== 'object') return [this.locks, key];
    let s = '';
    for (let i = 0; i < key.length; i++) s += String.fromCharCode(key[i]!);
    return [this.byteLocks as Map<string | number | bigint, CacheLock>, s];
  }

  private tooOld(lock: CacheLock): boolean {
    return this.lockAge !== undefined && this.clock() - lock.start > this.lockAge;
  }
}

function newLock(start: number): CacheLock {
  let release!: () => void;
  const done = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { start, done, release };
}

// Resolves true when `done` settles first, false after `timeout` ms.
function settlesWithin(done: Promise<void>, timeout: number | undefined): Promise<boolean> {
  if (timeout === undefined) return done.then(() => true);
  return new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), timeout);
    done.then(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}
