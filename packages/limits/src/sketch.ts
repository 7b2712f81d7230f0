/**
 * The count-min table shared by `Estimator`, `Rate` and `Inflight` (internal, not exported from
 * the package). It works on the two lanes of a hashed key, so a caller that needs several
 * sketches for one key (`Rate.rateWith` reads two) hashes the key once.
 *
 * Counters are one flat `Float64Array`, row `i` at offset `i * slots`. Float64 holds every
 * integer up to 2^53 - 1 exactly, where Pingora's `isize` wraps at 2^63 and an `Int32Array`
 * would wrap at 2^31, which a byte counter on a busy key can reach within one window. Past
 * 2^53 counts stop growing exactly instead of wrapping negative.
 */
import { randomSeeds, type SeedSource } from './hash.js';

/** Count-min table indexed by pre-hashed keys. */
export class Sketch {
  // Numbers are plain properties set in the constructor (`declare`: no class-field emit), since
  // V8 reads declared-then-assigned and private number fields measurably slower in the loops.
  declare readonly hashes: number;
  declare readonly slots: number;
  /** `slots - 1` when `slots` is a power of two (Pingora's sizes are), else -1. */
  declare readonly mask: number;
  readonly #table: Float64Array;
  // Per row: lane A is xored with `#xor[i]` and lane B multiplied by the odd `#mul[i]`, so each
  // row sees a different, independently seeded function of the key.
  readonly #xor: Int32Array;
  readonly #mul: Int32Array;

  constructor(hashes: number, slots: number, seeds: SeedSource = randomSeeds) {
    checkDimension(hashes, 'hashes');
    checkDimension(slots, 'slots');
    this.hashes = hashes;
    this.slots = slots;
    this.mask = (slots & (slots - 1)) === 0 ? slots - 1 : -1;
    this.#table = new Float64Array(hashes * slots);
    this.#xor = seeds(hashes);
    this.#mul = seeds(hashes).map((m) => m | 1);
  }

  // The hot loops copy fields into locals first, so V8 checks each field once per call
  // instead of once per row.

  /** Add `n` to the key's counter in every row and return the new minimum. */
  add(a: number, b: number, n: number): number {
    const table = this.#table;
    const xor = this.#xor;
    const mul = this.#mul;
    const rows = this.hashes;
    const slots = this.slots;
    const mask = this.mask;
    let min = Number.POSITIVE_INFINITY;
    for (let i = 0, offset = 0; i < rows; i++, offset += slots) {
      const j = offset + slot(a, b, xor[i]!, mul[i]!, slots, mask);
      const v = table[j]! + n;
      table[j] = v;
      if (v < min) min = v;
    }
    return min;
  }

  /** The key's estimate: the smallest of its counters. */
  min(a: number, b: number): number {
    const table = this.#table;
    const xor = this.#xor;
    const mul = this.#mul;
    const rows = this.hashes;
    const slots = this.slots;
    const mask = this.mask;
    let min = Number.POSITIVE_INFINITY;
    for (let i = 0, offset = 0; i < rows; i++, offset += slots) {
      const v = table[offset + slot(a, b, xor[i]!, mul[i]!, slots, mask)]!;
      if (v < min) min = v;
    }
    return min;
  }

  clear(): void {
    this.#table.fill(0);
  }
}

/**
 * Slot of a key in one row: combine the lanes with the row's parameters and avalanche the
 * result (Wellons' "lowbias32" finalizer).
 */
function slot(a: number, b: number, xor: number, mul: number, slots: number, mask: number): number {
  let h = ((a ^ xor) + Math.imul(b, mul)) | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b | 0);
  h ^= h >>> 16;
  return reduce(h, slots, mask);
}

/**
 * Map a 32-bit hash onto `[0, slots)`: the low bits when `slots` is a power of two, else
 * multiply-and-shift (Lemire), which avoids an integer division (both measured faster than
 * `%`). The float product can round, but never up to `slots * 2^32`, so the result stays below
 * `slots`. `| 0` keeps both arms int32, so the caller's index arithmetic stays integer.
 */
export function reduce(h: number, slots: number, mask: number): number {
  return mask >= 0 ? h & mask : Math.floor((h >>> 0) * slots * 2.3283064365386963e-10) | 0;
}

function checkDimension(value: number, name: string): void {
  if (typeof value !== 'number') throw new TypeError(`${name} must be a number, got ${typeof value}`);
  if (!Number.isInteger(value) || value < 1 || value > 0x7fffffff) {
    throw new RangeError(`${name} must be an integer from 1 to 2^31 - 1, got ${value}`);
  }
}

/**
 * Throw unless `n` is a safe integer. Kept out of line so the hot paths stay small; callers
 * write `if (!Number.isSafeInteger(n)) badCount(n)`.
 */
export function badCount(n: unknown): never {
  if (typeof n !== 'number') throw new TypeError(`count must be a number, got ${typeof n}`);
  throw new RangeError(`count must be a safe integer, got ${n}`);
}
