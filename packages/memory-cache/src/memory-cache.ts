/**
 * `MemoryCache`: Pingora's TTL cache on TinyUFO. Every entry has weight 1 and an optional expiry;
 * reads compare it with an injectable monotonic clock. Expired entries are not removed on read:
 * `getStale` can still serve them, and TinyUFO evicts them in time like any unpopular item.
 */
import { TinyUfo, type TinyUfoKey } from '@pingora-ts/tinyufo';
import { CacheStatus } from './cache-status.js';
import { type Clock, monotonicClock } from './clock.js';

/** Options for {@link MemoryCache}. */
export interface MemoryCacheOptions {
  /**
   * Time source for TTLs, in milliseconds. Defaults to {@link monotonicClock} (exact, read on
   * every `get` of an entry with a TTL); {@link coarseClock} trades up to a millisecond of
   * precision for speed.
   */
  clock?: Clock;
}

interface Node<V> {
  value: V;
  /** Absolute expiry on the cache's clock; `undefined` never expires. */
  expireOn: number | undefined;
}

/** A value (or `undefined`) and how it was found. */
export type CacheResult<V> = [value: V | undefined, status: CacheStatus];

/**
 * An in-memory cache with per-entry TTLs, S3-FIFO eviction and TinyLFU admission.
 *
 * @example
 * ```ts
 * import { CacheStatus, MemoryCache } from '@pingora-ts/memory-cache';
 *
 * const cache = new MemoryCache<string, number>(10_000);
 * cache.put('answer', 42, 60_000); // one minute
 * const [value, status] = cache.get('answer'); // [42, CacheStatus.Hit]
 * cache.put('forever', 1); // no TTL: never expires
 * ```
 */
export class MemoryCache<K extends TinyUfoKey, V> {
  private readonly store: TinyUfo<K, Node<V>>;
  private readonly clock: Clock;

  /** A cache of at most `size` entries (`TinyUfo(size, size)`, as in Pingora). */
  constructor(size: number, options: MemoryCacheOptions = {}) {
    this.store = new TinyUfo<K, Node<V>>(size, size);
    this.clock = options.clock ?? monotonicClock;
  }

  /** Number of entries held, expired ones included. */
  get size(): number {
    return this.store.size;
  }

  /** `[value, Hit]` for a fresh entry, `[undefined, Expired]` for an expired one, else `[undefined, Miss]`. */
  get(key: K): CacheResult<V> {
    const node = this.store.get(key);
    if (node === undefined) return [undefined, CacheStatus.Miss];
    if (node.expireOn !== undefined && node.expireOn <= this.clock()) return [undefined, CacheStatus.Expired];
    return [node.value, CacheStatus.Hit];
  }

  /**
   * Like {@link MemoryCache.get}, but an expired entry is returned too, with `Stale(ms)` saying
   * how long ago it expired.
   */
  getStale(key: K): CacheResult<V> {
    const node = this.store.get(key);
    if (node === undefined) return [undefined, CacheStatus.Miss];
    if (node.expireOn !== undefined) {
      const now = this.clock();
      if (node.expireOn <= now) return [node.value, CacheStatus.Stale(now - node.expireOn)];
    }
    return [node.value, CacheStatus.Hit];
  }

  /**
   * Store `value` for `ttl` milliseconds (`undefined`: no expiry). A TTL of 0 or less stores
   * nothing. TinyLFU admission may still turn a new key away if the item it would evict is more
   * popular; use {@link MemoryCache.forcePut} to always store.
   */
  put(key: K, value: V, ttl?: number): void {
    const node = this.node(value, ttl);
    if (node) this.store.put(key, node, 1);
  }

  /** {@link MemoryCache.put} without TinyLFU admission: the entry is always stored. */
  forcePut(key: K, value: V, ttl?: number): void {
    const node = this.node(value, ttl);
    if (node) this.store.forcePut(key, node, 1);
  }

  /** Remove `key` if present. */
  remove(key: K): void {
    this.store.remove(key);
  }

  /** {@link MemoryCache.get} for each key, in order. */
  multiGet(keys: Iterable<K>): CacheResult<V>[] {
    const out: CacheResult<V>[] = [];
    for (const key of keys) out.push(this.get(key));
    return out;
  }

  /** {@link MemoryCache.multiGet}, plus the keys that returned no value (missing or expired). */
  multiGetWithMiss(keys: Iterable<K>): [results: CacheResult<V>[], missed: K[]] {
    const out: CacheResult<V>[] = [];
    const missed: K[] = [];
    for (const key of keys) {
      const result = this.get(key);
      if (!result[1].isHit()) missed.push(key);
      out.push(result);
    }
    return [out, missed];
  }

  private node(value: V, ttl: number | undefined): Node<V> | undefined {
    if (ttl === undefined) return { value, expireOn: undefined };
    if (Number.isNaN(ttl)) throw new RangeError('MemoryCache: ttl must be a number of milliseconds, got NaN');
    if (ttl <= 0) return undefined;
    return { value, expireOn: this.clock() + ttl };
  }
}
