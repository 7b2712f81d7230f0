/**
 * The TinyUFO policy (Pingora's `FiFoQueues`): two FIFOs of slot numbers, per-slot weight and
 * `uses`, and TinyLFU admission. It knows nothing of keys or values: {@link TinyUfo} maps keys to
 * slots and keeps the values, so the same policy can run in TypeScript (this file) or in the
 * optional C++ addon (`native/tinyufo.cc`, the same algorithm line for line).
 *
 * Calls report through two shared typed arrays, so a native core costs one crossing per `put` and
 * none per `get`: `io` (see the `IO_*` indexes) and `out` (evicted `slot, weight` pairs).
 */
import { Ring } from './ring.js';
import { Sketch, type SketchParams } from './sketch.js';

/** `meta` bits: `uses` (0–3) in the low two bits. */
export const USES = 3;
/** `meta` bit: the slot is in the main queue (else small). */
export const MAIN = 4;
/** `meta` bit: the slot holds a cached item (clear for free slots and removed ones still queued). */
export const LIVE = 8;

/** `io[IO_SLOT]`: the slot given to the admitted item, or -1 when TinyLFU rejected it. */
export const IO_SLOT = 0;
/** `io[IO_COUNT]`: how many `slot, weight` pairs the call wrote to `out`. */
export const IO_COUNT = 1;
/** `io[IO_GEN]`: bumped whenever `meta`/`out` are replaced by bigger arrays. */
export const IO_GEN = 2;
/** `io[IO_WEIGHT]`: total weight cached. */
export const IO_WEIGHT = 3;
/** `io[IO_SIZE]`: number of items cached. */
export const IO_SIZE = 4;
/** Length of `io`. */
export const IO_LEN = 5;

/** Construction parameters shared by the TypeScript and native cores. */
export interface CoreParams {
  totalWeightLimit: number;
  /** Slots allocated up front (the arrays double when full). */
  capacity: number;
  sketch: SketchParams;
  /** `estimated_size`: sets the sketch's aging window (×8). */
  cacheSize: number;
  seeds: Int32Array;
}

/** What {@link TinyUfo} needs from a policy implementation. */
export interface Core {
  readonly io: Float64Array;
  /** Per-slot flags and `uses`; `get` bumps `uses` here directly. */
  readonly meta: Uint8Array;
  /** Evicted `slot, weight` pairs of the last call (grows on demand, bumping `io[IO_GEN]`). */
  readonly out: Uint32Array;
  readonly native: boolean;
  /** Admit a new item of `weight` whose key hashes to `(a, b)`. */
  admit(a: number, b: number, weight: number, force: boolean): void;
  /** Re-put the item in `slot` with a (possibly new) weight. */
  update(slot: number, weight: number): void;
  /** Forget the item in `slot`. */
  remove(slot: number): void;
  sketchIncr(a: number, b: number): number;
  sketchGet(a: number, b: number): number;
  /** Bytes held by the policy's own arrays (not keys and values). */
  byteLength(): number;
}

/**
 * `small_weight_limit = floor(limit × 0.1) + 1`, computed in `f32` as Pingora does, so huge limits
 * round the same way.
 */
export function smallWeightLimit(totalWeightLimit: number): number {
  return Math.floor(Math.fround(Math.fround(totalWeightLimit) * Math.fround(0.1))) + 1;
}

/** The TypeScript policy core. */
export class TsCore implements Core {
  readonly io = new Float64Array(IO_LEN);
  meta: Uint8Array;
  out: Uint32Array;
  readonly native = false;
  private readonly limit: number;
  private readonly smallLimit: number;
  private readonly sketch: Sketch;
  private readonly small: Ring;
  private readonly main: Ring;
  private smallWeight = 0;
  private mainWeight = 0;
  private live = 0;
  private tombstones = 0;
  private capacity: number;
  private next = 0;
  private freeTop = 0;
  private free: Int32Array;
  private weights: Uint32Array;
  private hashA: Int32Array;
  private hashB: Int32Array;

  constructor(p: CoreParams) {
    this.limit = p.totalWeightLimit;
    this.smallLimit = smallWeightLimit(p.totalWeightLimit);
    this.sketch = new Sketch(p.sketch, p.cacheSize, p.seeds);
    const cap = Math.max(p.capacity, 16);
    this.capacity = cap;
    this.small = new Ring(cap >> 3);
    this.main = new Ring(cap);
    this.meta = new Uint8Array(cap);
    this.out = new Uint32Array(32);
    this.free = new Int32Array(cap);
    this.weights = new Uint32Array(cap);
    this.hashA = new Int32Array(cap);
    this.hashB = new Int32Array(cap);
  }

  admit(a: number, b: number, weight: number, force: boolean): void {
    const freq = this.sketch.incr(a, b);
    const n = this.evictToLimit(weight);
    const io = this.io;
    if (!force && n === 1) {
      // TinyLFU: keep whichever of the newcomer and the one victim is more popular.
      const victim = this.out[0]!;
      if (this.sketch.get(this.hashA[victim]!, this.hashB[victim]!) > freq) {
        this.enqueueSmall(victim);
        io[IO_SLOT] = -1;
        io[IO_COUNT] = 0;
        this.report();
        return;
      }
    }
    for (let i = 0; i < n; i++) this.release(this.out[2 * i]!);
    const slot = this.alloc();
    this.weights[slot] = weight;
    this.hashA[slot] = a;
    this.hashB[slot] = b;
    this.enqueueSmall(slot);
    io[IO_SLOT] = slot;
    io[IO_COUNT] = n;
    this.report();
  }

  update(slot: number, weight: number): void {
    this.sketch.incr(this.hashA[slot]!, this.hashB[slot]!);
    const m = this.meta[slot]!;
    if ((m & USES) !== USES) this.meta[slot] = m + 1;
    const delta = weight - this.weights[slot]!;
    if (m & MAIN) this.mainWeight += delta;
    else this.smallWeight += delta;
    this.weights[slot] = weight;
    // As in Pingora, the item itself may be the one evicted here.
    const n = this.evictToLimit(0);
    for (let i = 0; i < n; i++) this.release(this.out[2 * i]!);
    this.io[IO_SLOT] = slot;
    this.io[IO_COUNT] = n;
    this.report();
  }

  remove(slot: number): void {
    const m = this.meta[slot]!;
    if (m & MAIN) this.mainWeight -= this.weights[slot]!;
    else this.smallWeight -= this.weights[slot]!;
    // The slot stays in its queue as a tombstone, skipped when popped (Pingora skips removed keys).
    this.meta[slot] = 0;
    this.live--;
    this.tombstones++;
    // Tombstones are only reclaimed by eviction; a cache that never fills would pile them up.
    if (this.tombstones >= 64 && this.tombstones > this.live) this.compact();
    this.report();
  }

  sketchIncr(a: number, b: number): number {
    return this.sketch.incr(a, b);
  }

  sketchGet(a: number, b: number): number {
    return this.sketch.get(a, b);
  }

  byteLength(): number {
    return (
      this.sketch.byteLength +
      this.meta.byteLength +
      this.out.byteLength +
      this.free.byteLength +
      this.weights.byteLength +
      this.hashA.byteLength +
      this.hashB.byteLength +
      this.small.buf.byteLength +
      this.main.buf.byteLength
    );
  }

  private report(): void {
    this.io[IO_WEIGHT] = this.smallWeight + this.mainWeight;
    this.io[IO_SIZE] = this.live;
  }

  private enqueueSmall(slot: number): void {
    this.meta[slot] = LIVE;
    this.small.push(slot);
    this.smallWeight += this.weights[slot]!;
    this.live++;
  }

  // Evict until `extra` more weight fits; victims go to `out` as `slot, weight` pairs.
  private evictToLimit(extra: number): number {
    let n = 0;
    while (this.limit < this.smallWeight + this.mainWeight + extra) {
      const slot = this.evictOne();
      if (slot < 0) break;
      if (2 * n + 2 > this.out.length) {
        this.out = copy(new Uint32Array(this.out.length * 2), this.out);
        this.io[IO_GEN] = this.io[IO_GEN]! + 1;
      }
      this.out[2 * n] = slot;
      this.out[2 * n + 1] = this.weights[slot]!;
      n++;
    }
    return n;
  }

  private evictOne(): number {
    if (this.smallLimit <= this.smallWeight) {
      // Small may promote everything it pops and evict nothing; then main must give one up.
      const slot = this.evictFromSmall();
      if (slot >= 0) return slot;
    }
    return this.evictFromMain();
  }

  private evictFromSmall(): number {
    const { small, meta } = this;
    while (small.length > 0) {
      const slot = small.shift();
      const m = meta[slot]!;
      if (!(m & LIVE)) {
        this.reclaim(slot);
        continue;
      }
      const w = this.weights[slot]!;
      this.smallWeight -= w;
      if ((m & USES) > 1) {
        meta[slot] = m | MAIN;
        this.main.push(slot);
        this.mainWeight += w;
        continue;
      }
      meta[slot] = 0;
      this.live--;
      return slot;
    }
    return -1;
  }

  private evictFromMain(): number {
    const { main, meta } = this;
    while (main.length > 0) {
      const slot = main.shift();
      const m = meta[slot]!;
      if (!(m & LIVE)) {
        this.reclaim(slot);
        continue;
      }
      if (m & USES) {
        // A second chance per recorded use: decrement and requeue at the tail.
        meta[slot] = m - 1;
        main.push(slot);
        continue;
      }
      this.mainWeight -= this.weights[slot]!;
      meta[slot] = 0;
      this.live--;
      return slot;
    }
    return -1;
  }

  private reclaim(slot: number): void {
    this.tombstones--;
    this.release(slot);
  }

  private release(slot: number): void {
    this.free[this.freeTop++] = slot;
  }

  private alloc(): number {
    if (this.freeTop > 0) return this.free[--this.freeTop]!;
    if (this.next === this.capacity) this.grow(nextCapacity(this.capacity, this.limit));
    return this.next++;
  }

  private grow(cap: number): void {
    this.meta = copy(new Uint8Array(cap), this.meta);
    this.free = copy(new Int32Array(cap), this.free);
    this.weights = copy(new Uint32Array(cap), this.weights);
    this.hashA = copy(new Int32Array(cap), this.hashA);
    this.hashB = copy(new Int32Array(cap), this.hashB);
    this.capacity = cap;
    this.io[IO_GEN] = this.io[IO_GEN]! + 1;
  }

  private compact(): void {
    const keep = (slot: number) => (this.meta[slot]! & LIVE) !== 0;
    const drop = (slot: number) => this.release(slot);
    this.small.filter(keep, drop);
    this.main.filter(keep, drop);
    this.tombstones = 0;
  }
}

/**
 * Slot arrays double, but not past `limit + 1`: with weights of 1 no more items can be live, so a
 * cache sized by item count ends with arrays of exactly its size. Only byte-weighted caches (or
 * removed items not yet reclaimed) double beyond it.
 */
export function nextCapacity(capacity: number, limit: number): number {
  return capacity <= limit ? Math.min(capacity * 2, limit + 1) : capacity * 2;
}

function copy<T extends Uint8Array | Uint32Array | Int32Array>(into: T, from: T): T {
  into.set(from);
  return into;
}
