/**
 * TinyLFU's frequency sketch: a count-min sketch of 8-bit saturating counters with periodic aging,
 * sized and aged exactly as Pingora's `estimation.rs` does. It replaces S3-FIFO's ghost queue: it
 * remembers how often a key was *put*, including keys that are no longer cached.
 */
import { fmix32 } from './hash.js';

/** Sketch geometry for `items` distinct keys. */
export interface SketchParams {
  /** Counters per row. */
  slots: number;
  /** Rows (independent hashes). */
  rows: number;
}

/**
 * Pingora's `optimal_paras`: width `ceil(e / ε)` and depth `ceil(ln δ / ln ½)` with
 * ε = δ = 1/items, floored at 16 slots and 2 rows. `items = 1_000_000` gives 2,718,282 × 20.
 */
export function sketchParams(items: number): SketchParams {
  const errorRange = 1 / items;
  const failureProbability = 1 / items;
  const slots = Math.max(Math.ceil(Math.E / errorRange), 16);
  const rows = Math.max(Math.ceil(Math.log(failureProbability) / Math.log(0.5)), 2);
  // Rust's float-to-usize casts saturate; NaN only arises for absurd inputs.
  return { slots: Number.isFinite(slots) ? slots : 16, rows: Number.isFinite(rows) ? rows : 2 };
}

/**
 * Where key `(a, b)` lands in row `r`. Each row mixes the key's two lanes with its own seed, which
 * plays the part of Pingora's per-row `RandomState`. The row hash is mapped onto `slots` by a
 * multiply and shift of its top 24 bits instead of `%`: an integer division per row made the
 * increment three times slower. The product stays below 2^53, so it is exact, and the native core
 * computes the same value in 64-bit integers.
 */
export function rowIndex(a: number, b: number, seed: number, r: number, slots: number): number {
  const h = fmix32(((a ^ seed) + Math.imul(b, 2 * r + 1)) | 0);
  return Math.floor(((h >>> 8) * slots) / 16777216);
}

/** Row seeds derived from the cache seed (splitmix32), so one seed reproduces a whole cache. */
export function rowSeeds(seed: number, rows: number): Int32Array {
  const out = new Int32Array(rows);
  let s = seed | 0;
  for (let r = 0; r < rows; r++) {
    s = (s + 0x9e3779b9) | 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
    z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
    out[r] = z ^ (z >>> 15);
  }
  return out;
}

/**
 * TinyLFU: the sketch plus its aging window. After `cacheSize × 8` increments every counter is
 * halved, so old popularity fades (8× is Pingora's balance between memory and accuracy).
 */
export class Sketch {
  readonly slots: number;
  readonly rows: number;
  readonly seeds: Int32Array;
  readonly windowLimit: number;
  /** Increments since the last aging. */
  window = 0;
  private readonly counters: Uint8Array;
  // The same bytes as 32-bit words, so aging halves four counters per operation.
  private readonly words: Uint32Array;

  constructor(params: SketchParams, cacheSize: number, seeds: Int32Array) {
    this.slots = params.slots;
    this.rows = params.rows;
    this.seeds = seeds;
    this.windowLimit = cacheSize * 8;
    const bytes = Math.ceil((this.slots * this.rows) / 4) * 4;
    const buffer = new ArrayBuffer(bytes);
    this.counters = new Uint8Array(buffer);
    this.words = new Uint32Array(buffer);
  }

  /** Bytes held by the counters. */
  get byteLength(): number {
    return this.counters.byteLength;
  }

  /** Count one more occurrence of `(a, b)`; returns the new estimate (the minimum over rows). */
  incr(a: number, b: number): number {
    const w = this.window;
    // Pingora ages when the pre-increment count equals the limit; `> 2×` is its safety net.
    if (w === this.windowLimit || w > this.windowLimit * 2) {
      this.window = 0;
      this.age();
    } else {
      this.window = w + 1;
    }
    const { counters, slots, seeds } = this;
    let min = 255;
    for (let r = 0, base = 0; r < this.rows; r++, base += slots) {
      const p = base + rowIndex(a, b, seeds[r]!, r, slots);
      let c = counters[p]!;
      if (c !== 255) counters[p] = ++c;
      if (c < min) min = c;
    }
    return min;
  }

  /** The estimated count of `(a, b)`. */
  get(a: number, b: number): number {
    const { counters, slots, seeds } = this;
    let min = 255;
    for (let r = 0, base = 0; r < this.rows; r++, base += slots) {
      const c = counters[base + rowIndex(a, b, seeds[r]!, r, slots)]!;
      if (c < min) min = c;
    }
    return min;
  }

  /** Halve every counter. */
  age(): void {
    const words = this.words;
    for (let i = 0; i < words.length; i++) words[i] = (words[i]! >>> 1) & 0x7f7f7f7f;
  }
}
