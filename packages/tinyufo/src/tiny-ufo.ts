/**
 * `TinyUfo`: the public cache. It maps keys to slots of a policy core (TypeScript or native) and
 * keeps the keys and values in plain arrays indexed by slot. `get` never leaves JavaScript, even
 * with the native core: it bumps the slot's `uses` in a byte array the core shares.
 */
import { type Core, IO_COUNT, IO_GEN, IO_SIZE, IO_SLOT, IO_WEIGHT, MAIN, TsCore, USES } from './core.js';
import { bytesMapKey, KeyHasher, randomSeed, type TinyUfoKey } from './hash.js';
import { createNativeCore } from './native.js';
import { rowSeeds, sketchParams } from './sketch.js';

/**
 * An item pushed out by a `put`: evicted to make room, or the put item itself when TinyLFU judged
 * it less popular than the one it would have displaced (Pingora's `KV`). Unlike Pingora, `key` is
 * the key you passed, not its hash.
 */
export interface Evicted<K, V> {
  key: K;
  data: V;
  weight: number;
}

/** Options beyond Pingora's two constructor arguments. */
export interface TinyUfoOptions {
  /**
   * Smaller memory: a sketch sized for `estimatedSize / 100` keys (Pingora's `new_compact`) and
   * slot arrays that grow from 16 instead of being sized for `estimatedSize` up front.
   */
  compact?: boolean;
  /**
   * Use the C++ policy core. Requires {@link isNativeEnabled}; `true` without it throws. The
   * default is the TypeScript core: `get` is the same code on both, and the native `put` is only
   * marginally faster (see the README).
   */
  native?: boolean;
  /** Hash seed (32-bit). Random by default; fix it to make evictions reproducible. */
  seed?: number;
}

type MapKey = string | number | bigint;

// Package-internal access to private state, filled in by a static block of the class.
let internals: {
  core(cache: TinyUfo<TinyUfoKey, unknown>): Core;
  meta(cache: TinyUfo<TinyUfoKey, unknown>): Uint8Array;
  slotOf(cache: TinyUfo<TinyUfoKey, unknown>, key: TinyUfoKey): number | undefined;
};

// Slot arrays are sized for the estimate up front, but not absurdly.
const MAX_INITIAL_CAPACITY = 1 << 16;

/**
 * An in-memory cache with S3-FIFO eviction and TinyLFU admission: Cloudflare Pingora's TinyUFO.
 * Items carry a weight; puts evict to keep the total within `totalWeightLimit`. Keys are strings,
 * numbers, bigints or byte arrays (compared by content).
 *
 * @example
 * ```ts
 * import { TinyUfo } from '@pingora-ts/tinyufo';
 *
 * const cache = new TinyUfo<string, string>(100, 100);
 * cache.put('a', 'alpha');
 * cache.get('a'); // 'alpha'
 * for (const { key, data } of cache.put('b', 'beta', 2)) console.log('evicted', key, data);
 * ```
 */
export class TinyUfo<K extends TinyUfoKey = TinyUfoKey, V = unknown> {
  /** The weight budget. */
  readonly totalWeightLimit: number;
  private readonly core: Core;
  private readonly hasher: KeyHasher;
  private readonly map = new Map<MapKey, number>();
  private bytes: Map<string, number> | undefined;
  private readonly keys: (K | undefined)[] = [];
  private readonly values: (V | undefined)[] = [];
  private meta: Uint8Array;
  private out: Uint32Array;
  private gen = 0;

  static {
    internals = {
      core: (c) => c.core,
      meta: (c) => c.meta,
      slotOf: (c, key) => c.slotOf(key),
    };
  }

  /**
   * @param totalWeightLimit the most total weight kept (with weight 1 per item: the item count)
   * @param estimatedSize about how many items will be cached; sizes the TinyLFU sketch
   */
  constructor(totalWeightLimit: number, estimatedSize: number, options: TinyUfoOptions = {}) {
    checkCount('totalWeightLimit', totalWeightLimit);
    checkCount('estimatedSize', estimatedSize);
    this.totalWeightLimit = totalWeightLimit;
    const seed = options.seed ?? randomSeed();
    this.hasher = new KeyHasher(seed);
    const sketch = sketchParams(options.compact ? Math.floor(estimatedSize / 100) : estimatedSize);
    const params = {
      totalWeightLimit,
      capacity: options.compact
        ? 16
        : Math.min(Math.min(estimatedSize, totalWeightLimit) + 1, MAX_INITIAL_CAPACITY),
      sketch,
      cacheSize: estimatedSize,
      seeds: rowSeeds(seed, sketch.rows),
    };
    let core: Core | undefined;
    if (options.native) {
      core = createNativeCore(params);
      if (!core) throw new Error('TinyUfo: the native core is not available (see isNativeEnabled())');
    }
    this.core = core ?? new TsCore(params);
    this.meta = this.core.meta;
    this.out = this.core.out;
  }

  /**
   * A cache that trades a little admission accuracy for memory (Pingora's `new_compact`).
   *
   * @example
   * ```ts
   * const cache = TinyUfo.compact<number, Uint8Array>(1 << 20, 10_000);
   * ```
   */
  static compact<K extends TinyUfoKey = TinyUfoKey, V = unknown>(
    totalWeightLimit: number,
    estimatedSize: number,
    options: Omit<TinyUfoOptions, 'compact'> = {},
  ): TinyUfo<K, V> {
    return new TinyUfo<K, V>(totalWeightLimit, estimatedSize, { ...options, compact: true });
  }

  /** Number of items cached. */
  get size(): number {
    return this.core.io[IO_SIZE]!;
  }

  /** Total weight cached. */
  get weight(): number {
    return this.core.io[IO_WEIGHT]!;
  }

  /** Whether this cache runs on the native core. */
  get native(): boolean {
    return this.core.native;
  }

  /** The value for `key`, counting one use (a read never moves items between queues). */
  get(key: K): V | undefined {
    const slot = this.slotOf(key);
    if (slot === undefined) return undefined;
    const meta = this.meta;
    const m = meta[slot]!;
    if ((m & USES) !== USES) meta[slot] = m + 1;
    return this.values[slot];
  }

  /**
   * Cache `data` under `key` with `weight` (a positive integer). A new key enters the small queue;
   * when exactly one item had to be evicted for it and the sketch says that item was put more
   * often, the new item is refused and returned instead. Returns everything pushed out.
   */
  put(key: K, data: V, weight = 1): Evicted<K, V>[] {
    return this.admit(key, data, weight, false);
  }

  /**
   * {@link TinyUfo.put} without the TinyLFU refusal: the item is always admitted (about 0.5 pp lower
   * hit ratio; for callers waiting on the fill).
   */
  forcePut(key: K, data: V, weight = 1): Evicted<K, V>[] {
    return this.admit(key, data, weight, true);
  }

  /** Remove `key`; returns its value if it was cached. */
  remove(key: K): V | undefined {
    const isBytes = typeof key === 'object';
    const mapKey: MapKey = isBytes ? bytesMapKey(key) : key;
    const map = isBytes ? this.bytes : this.map;
    const slot = map?.get(mapKey as string);
    if (slot === undefined) return undefined;
    map!.delete(mapKey as string);
    const data = this.values[slot];
    this.keys[slot] = undefined;
    this.values[slot] = undefined;
    this.core.remove(slot);
    return data;
  }

  private slotOf(key: K): number | undefined {
    return typeof key === 'object' ? this.bytes?.get(bytesMapKey(key)) : this.map.get(key);
  }

  private admit(key: K, data: V, weight: number, force: boolean): Evicted<K, V>[] {
    if (weight >>> 0 !== weight || weight === 0) {
      throw new RangeError(`TinyUfo: weight must be an integer in [1, 2^32-1], got ${weight}`);
    }
    const isBytes = typeof key === 'object';
    const mapKey: MapKey = isBytes ? bytesMapKey(key) : key;
    if (isBytes && this.bytes === undefined) this.bytes = new Map();
    const map: Map<MapKey, number> = isBytes ? this.bytes! : this.map;
    const core = this.core;
    const existing = map.get(mapKey);
    if (existing !== undefined) {
      this.keys[existing] = key;
      this.values[existing] = data;
      core.update(existing, weight);
    } else {
      const a = this.hasher.hash(key);
      core.admit(a, this.hasher.b, weight, force);
    }
    const io = core.io;
    if (io[IO_GEN] !== this.gen) {
      this.gen = io[IO_GEN]!;
      this.meta = core.meta;
      this.out = core.out;
    }
    const evicted: Evicted<K, V>[] = [];
    const n = io[IO_COUNT]!;
    if (n > 0) {
      const { out, keys, values } = this;
      // Victims first: the admitted item may reuse one of their slots.
      for (let i = 0; i < n; i++) {
        const slot = out[2 * i]!;
        const k = keys[slot]!;
        evicted.push({ key: k, data: values[slot] as V, weight: out[2 * i + 1]! });
        // Victims may be of another key kind than the put key.
        if (typeof k === 'object') this.bytes!.delete(bytesMapKey(k));
        else this.map.delete(k);
        keys[slot] = undefined;
        values[slot] = undefined;
      }
    }
    if (existing === undefined) {
      const slot = io[IO_SLOT]!;
      if (slot < 0) {
        evicted.push({ key, data, weight });
      } else {
        this.keys[slot] = key;
        this.values[slot] = data;
        map.set(mapKey, slot);
      }
    }
    return evicted;
  }
}

/** Which queue holds `key` (Pingora's test-only `peek_queue`); for tests and benchmarks. */
export function queueOf(cache: TinyUfo<TinyUfoKey, unknown>, key: TinyUfoKey): 'small' | 'main' | undefined {
  const slot = internals.slotOf(cache, key);
  if (slot === undefined) return undefined;
  return internals.meta(cache)[slot]! & MAIN ? 'main' : 'small';
}

/** The policy core behind `cache`; for tests and benchmarks. */
export function coreOf(cache: TinyUfo<TinyUfoKey, unknown>): Core {
  return internals.core(cache);
}

function checkCount(name: string, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`TinyUfo: ${name} must be a non-negative integer, got ${n}`);
  }
}
