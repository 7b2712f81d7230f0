/**
 * Key hashing for the sketches. One pass over the key yields two 32-bit lanes computed by two
 * different round functions from two random seeds; every sketch row then derives its own slot
 * from the pair with its own random parameters (see `sketch.ts`). Walking the key once instead
 * of once per row matters in JavaScript, where reading the string dominates the cost: this is
 * the same split as Pingora's `Inflight`, which hashes a key to a `u64` and lets the estimator
 * hash that per row.
 *
 * Not a keyed PRF: the seeds stop accidental pile-ups and make offline collision tables useless,
 * but an attacker who can observe the limiter's decisions could still search for colliding keys.
 * Count-min errors only ever over-count, so the worst case is a key limited too early.
 */

/**
 * What the sketches count. Strings are hashed by UTF-16 code units, numbers by value (`0` and
 * `-0` are one key, every `NaN` is one key) and byte arrays by content. The three kinds never
 * alias: `'a'`, `97` and `Uint8Array.of(97)` are three keys.
 */
export type EstimatorKey = string | number | Uint8Array;

/** Output of {@link hashKey}: `[laneA, laneB]`. A shared scratch, so hashing allocates nothing. */
export const LANES = new Int32Array(2);

// Constants are written as literals inside the functions rather than as module constants:
// bundlers turn top-level `const` into `var`, which V8 (Node 20) reloads on every use, and
// constants outside the small-integer range are then boxed (measured: a few ns per key).
// - seeds are xored with 0x2545f491 for numbers and 0x6b43a9b5 for bytes, so that equal bit
//   patterns of different kinds start from different states;
// - 0xcc9e2d51 (MurmurHash3) and 0x9e3779b1 (xxHash) are odd multipliers with well-mixed bits.

const f64 = new Float64Array(1);
const f64Words = new Int32Array(f64.buffer);

/**
 * Hash `key` into {@link LANES}. Each lane absorbs a 32-bit block per round with one multiply:
 * lane A rotates by 5, xors and multiplies, lane B rotates by 13, adds and multiplies by another
 * constant, so blocks whose difference cancels in one lane are unlikely to cancel in the other. The
 * lanes need no avalanche of their own, since every row runs a full finalizer over them (see
 * `sketch.ts`). That keeps the string loop as fast as reading the characters: measured, a round
 * of two Murmur-style lanes took a third longer. One small function per key kind keeps each under
 * V8's inlining budget, so the rounds inline into the loops.
 */
export function hashKey(key: EstimatorKey, seeds: Int32Array): void {
  const a = seeds[0]!;
  const b = seeds[1]!;
  if (typeof key === 'string') hashString(key, a, b);
  else if (typeof key === 'number') hashNumber(key, a ^ 0x2545f491, b ^ 0x2545f491);
  else hashBytes(asBytes(key), a ^ 0x6b43a9b5, b ^ 0x6b43a9b5);
}

function hashString(key: string, a: number, b: number): void {
  const len = key.length;
  let i = 0;
  let k = 0;
  for (; i + 1 < len; i += 2) {
    k = key.charCodeAt(i) | (key.charCodeAt(i + 1) << 16);
    a = roundA(a, k);
    b = roundB(b, k);
  }
  if (i < len) {
    k = key.charCodeAt(i);
    a = roundA(a, k);
    b = roundB(b, k);
  }
  finish(a, b, len);
}

function hashNumber(key: number, a: number, b: number): void {
  if ((key | 0) === key) {
    // Small integers, and -0, which `(key | 0) === key` folds into 0 as Map does.
    finish(roundA(a, key), roundB(b, key), 4);
    return;
  }
  let lo = 0;
  let hi = 0x7ff80000; // the canonical NaN's high word
  // NaN payloads differ between producers; Map treats every NaN as one key, so do we.
  if (!Number.isNaN(key)) {
    f64[0] = key;
    lo = f64Words[0]!;
    hi = f64Words[1]!;
  }
  finish(roundA(roundA(a, lo), hi), roundB(roundB(b, lo), hi), 8);
}

function hashBytes(bytes: Uint8Array, a: number, b: number): void {
  const len = bytes.length;
  let i = 0;
  let k = 0;
  for (; i + 3 < len; i += 4) {
    k = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    a = roundA(a, k);
    b = roundB(b, k);
  }
  if (i < len) {
    k = 0;
    for (let shift = 0; i < len; i++, shift += 8) k |= bytes[i]! << shift;
    a = roundA(a, k);
    b = roundB(b, k);
  }
  finish(a, b, len);
}

function finish(a: number, b: number, len: number): void {
  // The length separates keys whose padded tails agree ("a" and "a\0"); the final avalanche
  // (murmur3's fmix32, a bijection) breaks up the structure of arithmetic key sequences, which
  // otherwise collide across the integer and float paths far more often than chance.
  LANES[0] = fmix(a ^ len);
  LANES[1] = fmix(b ^ Math.imul(len, 0x9e3779b1));
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

function roundA(h: number, block: number): number {
  return Math.imul(((h << 5) | (h >>> 27)) ^ block, 0xcc9e2d51);
}

function roundB(h: number, block: number): number {
  return Math.imul((((h << 13) | (h >>> 19)) + block) | 0, 0x9e3779b1);
}

function asBytes(key: unknown): Uint8Array {
  if (key instanceof Uint8Array) return key;
  // Another realm's Uint8Array (or any typed array / DataView) is hashed by its bytes.
  if (ArrayBuffer.isView(key)) return new Uint8Array(key.buffer, key.byteOffset, key.byteLength);
  throw new TypeError(`key must be a string, a number or a Uint8Array, got ${describe(key)}`);
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (typeof x === 'object') return x.constructor?.name ?? 'object';
  return typeof x;
}

/**
 * Fresh random 32-bit seeds, like Rust's `RandomState::new()`. Kept in an `Int32Array` rather
 * than number fields: most int32 values do not fit V8's small integers and would be boxed.
 */
export function randomSeeds(count: number): Int32Array {
  return crypto.getRandomValues(new Int32Array(count));
}

/** Where a sketch draws its seeds: {@link randomSeeds}, or {@link fixedSeeds} to reproduce a run. */
export type SeedSource = (count: number) => Int32Array;

/**
 * A reproducible {@link SeedSource}: the same `seed` yields the same sequence of seeds (splitmix32),
 * so a sketch built from it places every key the same way on every run.
 */
export function fixedSeeds(seed: number): SeedSource {
  let state = seed | 0;
  return (count) => {
    const out = new Int32Array(count);
    for (let i = 0; i < count; i++) {
      state = (state + 0x9e3779b9) | 0;
      let z = state;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      out[i] = z ^ (z >>> 16);
    }
    return out;
  };
}
