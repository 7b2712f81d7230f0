/**
 * Selection algorithms for {@link Weighted} (Pingora's `SelectionAlgorithm`): each turns a key
 * into a 64-bit index. JavaScript numbers stop being exact at 2^53, so the index is kept as two
 * 32-bit halves and reduced modulo the list length exactly, which is what makes the FNV picks
 * match Pingora's bit for bit.
 */
import type { SelectionKey } from './selection.js';

/** An unsigned 64-bit value as two unsigned 32-bit halves. */
export interface U64 {
  hi: number;
  lo: number;
}

/**
 * Produces the index a weighted selection picks from (Pingora's `next(&self, key) -> u64`).
 * Fallback picks feed the previous index back in as its 8 little-endian bytes.
 */
export interface SelectionAlgorithm {
  /** Writes the index for `key` into `out`. */
  next(key: SelectionKey, out: U64): void;
  /** Optional fast path for `next(le_bytes(state), state)`, without building the bytes. */
  nextU64?(state: U64): void;
}

const TWO_32 = 4294967296;

/** `(hi·2^32 + lo) mod n`, exactly. */
export function u64Mod(hi: number, lo: number, n: number): number {
  if (hi === 0) return lo % n;
  // (hi mod n)·(2^32 mod n) < n² stays exact below 2^53 while n < 2^26.
  if (n < 0x4000000) return ((hi % n) * (TWO_32 % n) + (lo % n)) % n;
  return Number(((BigInt(hi) << 32n) | BigInt(lo)) % BigInt(n));
}

/** The 8 little-endian bytes of a u64 (Rust's `to_le_bytes`). */
export function u64LeBytes(v: U64): Uint8Array {
  const b = new Uint8Array(8);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, v.lo, true);
  dv.setUint32(4, v.hi, true);
  return b;
}

// 64-bit FNV-1a: offset basis 0xcbf29ce484222325, prime 0x100000001b3 = 2^40 + 0x1b3.
const OFFSET_HI = 0xcbf29ce4;
const OFFSET_LO = 0x84222325;

const encoder = new TextEncoder();

/**
 * 64-bit FNV-1a of `key` (strings as UTF-8) into `out`. The hash is kept as four 16-bit limbs so
 * that every step stays in small-integer arithmetic: xor the byte into the low limb, then multiply
 * by the prime 2^40 + 0x1b3 — each limb times 0x1b3, plus the limbs shifted up by 40 bits (limb
 * i·2^8 lands in limb i+2), with carries propagated upwards and the overflow past 2^64 dropped.
 */
export function fnv1a64(key: SelectionKey, out: U64): void {
  if (typeof key !== 'string') fnvBytes(key, out);
  else if (!fnvAscii(key, out)) fnvBytes(encoder.encode(key), out);
}

/** FNV of an ASCII string; false (and `out` untouched) when it is not ASCII. */
function fnvAscii(key: string, out: U64): boolean {
  let v0 = OFFSET_LO & 0xffff;
  let v1 = OFFSET_LO >>> 16;
  let v2 = OFFSET_HI & 0xffff;
  let v3 = OFFSET_HI >>> 16;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c >= 0x80) return false;
    v0 ^= c;
    const t0 = v0 * 0x1b3;
    const t1 = v1 * 0x1b3 + (t0 >>> 16);
    const t2 = v2 * 0x1b3 + (v0 << 8) + (t1 >>> 16);
    v3 = (v3 * 0x1b3 + (v1 << 8) + (t2 >>> 16)) & 0xffff;
    v0 = t0 & 0xffff;
    v1 = t1 & 0xffff;
    v2 = t2 & 0xffff;
  }
  out.hi = ((v3 << 16) | v2) >>> 0;
  out.lo = ((v1 << 16) | v0) >>> 0;
  return true;
}

function fnvBytes(key: Uint8Array, out: U64): void {
  let v0 = OFFSET_LO & 0xffff;
  let v1 = OFFSET_LO >>> 16;
  let v2 = OFFSET_HI & 0xffff;
  let v3 = OFFSET_HI >>> 16;
  for (let i = 0; i < key.length; i++) {
    v0 ^= key[i]!;
    const t0 = v0 * 0x1b3;
    const t1 = v1 * 0x1b3 + (t0 >>> 16);
    const t2 = v2 * 0x1b3 + (v0 << 8) + (t1 >>> 16);
    v3 = (v3 * 0x1b3 + (v1 << 8) + (t2 >>> 16)) & 0xffff;
    v0 = t0 & 0xffff;
    v1 = t1 & 0xffff;
    v2 = t2 & 0xffff;
  }
  out.hi = ((v3 << 16) | v2) >>> 0;
  out.lo = ((v1 << 16) | v0) >>> 0;
}

const u64LeBytesScratch = new Uint8Array(8);

/** FNV-1a of the 8 little-endian bytes of `state`, in place (the fallback step). */
function fnvU64(state: U64): void {
  const bytes = u64LeBytesScratch;
  const v = state;
  bytes[0] = v.lo & 0xff;
  bytes[1] = (v.lo >>> 8) & 0xff;
  bytes[2] = (v.lo >>> 16) & 0xff;
  bytes[3] = v.lo >>> 24;
  bytes[4] = v.hi & 0xff;
  bytes[5] = (v.hi >>> 8) & 0xff;
  bytes[6] = (v.hi >>> 16) & 0xff;
  bytes[7] = v.hi >>> 24;
  fnv1a64(bytes, state);
}

/** Pingora's `FnvHasher` as a selection algorithm: the key's FNV-1a. */
export class FnvAlgorithm implements SelectionAlgorithm {
  next(key: SelectionKey, out: U64): void {
    fnv1a64(key, out);
  }

  nextU64(state: U64): void {
    fnvU64(state);
  }
}

/** Pingora's `algorithms::RoundRobin`: a counter shared by every pick, keys ignored. */
export class RoundRobinAlgorithm implements SelectionAlgorithm {
  #counter = 0;

  next(_key: SelectionKey, out: U64): void {
    const c = this.#counter++;
    out.hi = c < TWO_32 ? 0 : Math.floor(c / TWO_32);
    out.lo = c >>> 0;
  }

  nextU64(state: U64): void {
    this.next('', state);
  }
}

/**
 * Pingora's `algorithms::Random`, keys ignored. Pingora draws a u64; one 32-bit draw is enough
 * (the modulo bias is below n / 2^32) and keeps the reduction to one integer `%`.
 */
export class RandomAlgorithm implements SelectionAlgorithm {
  next(_key: SelectionKey, out: U64): void {
    out.hi = 0;
    out.lo = (Math.random() * TWO_32) >>> 0;
  }

  nextU64(state: U64): void {
    this.next('', state);
  }
}
