/**
 * Seeded key hashing. Pingora hashes every key to a `u64` with a per-cache random ahash seed; here
 * a key becomes two 32-bit lanes (`a`, `b`), each a murmur3-style hash with its own seed and
 * constants, cross-mixed at the end so that together they behave like one 64-bit hash. The lanes
 * feed only the TinyLFU sketch: the bucket map is keyed by the key itself, so a hash collision can
 * blur a frequency estimate but never return another key's value.
 *
 * Strings hash by UTF-16 code units, byte arrays by content, numbers by value (integers as their
 * 64-bit two's complement, other numbers by their IEEE-754 bits), bigints by their low 64 bits.
 */

/** Key types a {@link TinyUfo} accepts. Byte arrays are compared by content. */
export type TinyUfoKey = string | number | bigint | Uint8Array;

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;
const C3 = 0x85ebca6b;
const C4 = 0xc2b2ae35;

/** murmur3's finaliser: every input bit affects every output bit. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, C3);
  h ^= h >>> 13;
  h = Math.imul(h, C4);
  return h ^ (h >>> 16);
}

// One 32-bit block into lane A (murmur3 constants) and lane B (the same shape, other constants).
function laneA(h: number, k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  h ^= Math.imul(k, C2);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}
function laneB(h: number, k: number): number {
  k = Math.imul(k, C3);
  k = (k << 16) | (k >>> 16);
  h ^= Math.imul(k, C4);
  h = (h << 17) | (h >>> 15);
  return (Math.imul(h, 5) + 0x561ccd1b) | 0;
}

const f64 = new Float64Array(1);
const f64Words = new Int32Array(f64.buffer);

/**
 * Hashes keys with one cache's seed. `hash(key)` returns lane A and leaves lane B in
 * {@link KeyHasher.b}, so the hot path allocates nothing.
 */
export class KeyHasher {
  /** Lane B of the last {@link KeyHasher.hash} call. */
  b = 0;
  private readonly seedA: number;
  private readonly seedB: number;

  constructor(seed: number) {
    this.seedA = fmix32(seed ^ 0x3c6ef372);
    this.seedB = fmix32((seed + 0x5bd1e995) | 0);
  }

  /** Lane A of `key`'s hash; lane B is left in `this.b`. */
  hash(key: TinyUfoKey): number {
    switch (typeof key) {
      case 'number':
        return this.hashNumber(key);
      case 'string':
        return this.hashString(key);
      case 'bigint':
        return this.hashWords(
          Number(BigInt.asIntN(32, key)),
          Number(BigInt.asIntN(32, key >> 32n)),
          0x62696769,
        );
      default:
        return this.hashBytes(key);
    }
  }

  private hashNumber(n: number): number {
    if ((n | 0) === n) return this.hashWords(n, n < 0 ? -1 : 0, 0x6e756d62);
    if (Number.isSafeInteger(n)) return this.hashWords(n >>> 0, Math.floor(n / 4294967296) | 0, 0x6e756d62);
    f64[0] = Number.isNaN(n) ? Number.NaN : n;
    return this.hashWords(f64Words[0]!, f64Words[1]!, 0x666c6f61);
  }

  private hashWords(lo: number, hi: number, tag: number): number {
    const a = laneA(laneA(this.seedA ^ tag, lo), hi);
    const b = laneB(laneB(this.seedB ^ tag, lo), hi);
    return this.finish(a, b, 8);
  }

  private hashString(s: string): number {
    const n = s.length;
    let a = this.seedA;
    let b = this.seedB;
    let i = 0;
    for (; i + 1 < n; i += 2) {
      const k = s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16);
      a = laneA(a, k);
      b = laneB(b, k);
    }
    if (i < n) {
      const k = s.charCodeAt(i);
      a = laneA(a, k);
      b = laneB(b, k);
    }
    return this.finish(a, b, n * 2);
  }

  private hashBytes(u: Uint8Array): number {
    const n = u.length;
    let a = this.seedA ^ 0x62797465;
    let b = this.seedB ^ 0x62797465;
    let i = 0;
    for (; i + 3 < n; i += 4) {
      const k = u[i]! | (u[i + 1]! << 8) | (u[i + 2]! << 16) | (u[i + 3]! << 24);
      a = laneA(a, k);
      b = laneB(b, k);
    }
    if (i < n) {
      let k = 0;
      for (let s = 0; i < n; i++, s += 8) k |= u[i]! << s;
      a = laneA(a, k);
      b = laneB(b, k);
    }
    return this.finish(a, b, n);
  }

  // murmur3 x86_128-style cross mixing of the two lanes.
  private finish(a: number, b: number, len: number): number {
    a ^= len;
    b ^= len;
    a = (a + b) | 0;
    b = (b + a) | 0;
    a = fmix32(a);
    b = fmix32(b);
    a = (a + b) | 0;
    this.b = (b + a) | 0;
    return a;
  }
}

/**
 * The exact map key for a byte array: one latin1 character per byte, so equal contents give equal
 * strings and nothing else does. Kept in a map of its own, so it cannot meet a string key.
 */
export function bytesMapKey(u: Uint8Array): string {
  const n = u.length;
  if (n <= 24) {
    let s = '';
    for (let i = 0; i < n; i++) s += String.fromCharCode(u[i]!);
    return s;
  }
  let s = '';
  for (let i = 0; i < n; i += 8192) {
    s += String.fromCharCode.apply(null, u.subarray(i, Math.min(n, i + 8192)) as unknown as number[]);
  }
  return s;
}

/** A 32-bit seed from the platform's CSPRNG (falls back to `Math.random`). */
export function randomSeed(): number {
  const c = globalThis.crypto;
  if (c?.getRandomValues) return c.getRandomValues(new Int32Array(1))[0]!;
  return (Math.random() * 4294967296) | 0;
}
