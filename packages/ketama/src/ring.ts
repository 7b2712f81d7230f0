/**
 * The ring itself, in TypeScript: point generation, a stable sort, de-duplication and the
 * lookup search. The native addon produces the same two arrays; everything here is the
 * reference it is tested against.
 *
 * Ties: two points with the same hash keep their generation order (bucket order, then point
 * order) and only the first survives de-duplication. nginx gets this from glibc's `qsort`, which
 * is a merge sort (stable) for rings of any realistic size; Pingora's `sort_unstable` leaves it
 * unspecified.
 */
import type { Bucket } from './bucket.js';
import { CRC32_INIT, crc32FinalizeWithWord, crc32UpdateString } from './crc32.js';

/** Points per weight unit, nginx's constant. */
export const POINT_MULTIPLE = 160;

/** How a bucket address is turned into hash input: nginx's `server` text or Pingora's `SocketAddr`. */
export type Compat = 'nginx' | 'pingora';

/** A built ring: `hashes` ascending and unique, `nodes[i]` the bucket index of point `i`. */
export interface Ring {
  readonly hashes: Uint32Array;
  readonly nodes: Uint32Array;
}

/** Total point count before de-duplication; throws past 2^32-1 (Pingora's `u32`). */
export function totalPoints(buckets: readonly Bucket[]): number {
  let total = 0;
  for (const b of buckets) total += b.weight * POINT_MULTIPLE;
  if (total > 0xffffffff) {
    throw new RangeError(`ketama: total weight × ${POINT_MULTIPLE} = ${total} points exceeds 2^32-1`);
  }
  return total;
}

/** `host \0 port` for every bucket, the prefix of each of its point hashes. */
export function bucketBases(buckets: readonly Bucket[], compat: Compat): string[] {
  return buckets.map((b) => `${b.hashHost(compat)}\0${b.hashPort(compat)}`);
}

const DIGIT_BITS = 11;
const DIGIT_MASK = (1 << DIGIT_BITS) - 1;
const COUNTS = new Uint32Array(1 << DIGIT_BITS);

/**
 * Stable LSD radix sort of `keys` (with `vals` alongside) in three 11-bit passes; returns the
 * arrays holding the result (the scratch pair, since the pass count is odd).
 */
function radixSort(keys: Uint32Array, vals: Uint32Array): [Uint32Array, Uint32Array] {
  const n = keys.length;
  let srcK = keys;
  let srcV = vals;
  let dstK: Uint32Array = new Uint32Array(n);
  let dstV: Uint32Array = new Uint32Array(n);
  for (let shift = 0; shift < 32; shift += DIGIT_BITS) {
    COUNTS.fill(0);
    for (let i = 0; i < n; i++) COUNTS[(srcK[i]! >>> shift) & DIGIT_MASK]!++;
    let sum = 0;
    for (let d = 0; d <= DIGIT_MASK; d++) {
      const c = COUNTS[d]!;
      COUNTS[d] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const k = srcK[i]!;
      const at = COUNTS[(k >>> shift) & DIGIT_MASK]!++;
      dstK[at] = k;
      dstV[at] = srcV[i]!;
    }
    [srcK, dstK] = [dstK, srcK];
    [srcV, dstV] = [dstV, srcV];
  }
  return [srcK, srcV];
}

/** Hash every point of every bucket into `hashes`/`nodes` in generation order. */
function generatePoints(bases: readonly string[], buckets: readonly Bucket[], total: number): Ring {
  const hashes = new Uint32Array(total);
  const nodes = new Uint32Array(total);
  let p = 0;
  for (let i = 0; i < buckets.length; i++) {
    const base = crc32UpdateString(CRC32_INIT, bases[i]!);
    const end = p + buckets[i]!.weight * POINT_MULTIPLE;
    nodes.fill(i, p, end);
    let prev = 0;
    for (; p < end; p++) {
      prev = crc32FinalizeWithWord(base, prev);
      hashes[p] = prev;
    }
  }
  return { hashes, nodes };
}

/** Keep the first point of each run of equal hashes, in place; returns the new length. */
function dedup(hashes: Uint32Array, nodes: Uint32Array): number {
  const n = hashes.length;
  if (n === 0) return 0;
  let w = 0;
  for (let r = 1; r < n; r++) {
    if (hashes[r] !== hashes[w]) {
      w++;
      hashes[w] = hashes[r]!;
      nodes[w] = nodes[r]!;
    }
  }
  return w + 1;
}

/** Build the ring for `buckets` in TypeScript. */
export function buildRingTs(buckets: readonly Bucket[], compat: Compat): Ring {
  const total = totalPoints(buckets);
  const points = generatePoints(bucketBases(buckets, compat), buckets, total);
  const [hashes, nodes] = radixSort(points.hashes, points.nodes);
  const len = dedup(hashes, nodes);
  return len === total ? { hashes, nodes } : { hashes: hashes.slice(0, len), nodes: nodes.slice(0, len) };
}

/**
 * Index of the first point whose hash is ≥ `hash`, or 0 when there is none (the ring wraps).
 * For an empty ring this is 0, as in Pingora.
 */
export function findPoint(hashes: Uint32Array, hash: number): number {
  let lo = 0;
  let hi = hashes.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (hashes[mid]! < hash) lo = mid + 1;
    else hi = mid;
  }
  return lo === hashes.length ? 0 : lo;
}
