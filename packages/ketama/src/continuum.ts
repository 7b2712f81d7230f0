/**
 * `Continuum`: the consistent-hashing ring of Pingora's `pingora-ketama` and nginx's
 * `hash $key consistent`. Construction builds the sorted point array once; lookups are a CRC-32
 * of the key and a binary search, done in JavaScript because a native call per key costs more
 * than the search. The addon, when present, builds the rings and serves large batch lookups.
 */
import { Bucket } from './bucket.js';
import { CRC32_INIT, crc32Update, crc32UpdateString } from './crc32.js';
import { type NativeBinding, nativeBinding } from './native.js';
import { NodeIterator } from './node-iterator.js';
import { buildRingTs, bucketBases, type Compat, findPoint, type Ring, totalPoints } from './ring.js';

/** Which implementation builds the ring and serves batch lookups. */
export type Implementation = 'auto' | 'ts' | 'native';

/** Options for {@link Continuum}. */
export interface ContinuumOptions {
  /**
   * `'nginx'` (default): hash each bucket's address text as nginx hashes its `server` line, so
   * IPv6 hosts keep their brackets (`[::1]\07777`). `'pingora'`: hash the parsed address as
   * pingora-ketama does (`::1\07777`). Both are identical for IPv4 written in canonical form.
   */
  compat?: Compat;
  /**
   * `'auto'` (default): the native addon where the benchmarks show it is faster (every ring
   * build; batches of 64 or more string keys), TypeScript elsewhere, including every single-key
   * lookup. `'ts'`: never native. `'native'`: always native for builds and batches (byte-key
   * batches included); throws if the addon is not loaded.
   */
  implementation?: Implementation;
}

/**
 * Below this many keys a batch lookup stays in TypeScript (see bench/native-vs-ts.ts); batches
 * with byte keys always do, since the per-element native path is slower than the JIT.
 */
const NATIVE_BATCH_MIN_KEYS = 64;

const encoder = new TextEncoder();

function buildRingNative(native: NativeBinding, buckets: readonly Bucket[], compat: Compat): Ring {
  totalPoints(buckets);
  const bases = bucketBases(buckets, compat);
  const bytes = encoder.encode(bases.join(''));
  const ends = new Uint32Array(buckets.length);
  const weights = new Uint32Array(buckets.length);
  let end = 0;
  for (let i = 0; i < buckets.length; i++) {
    end += bases[i]!.length; // bases are ASCII: one byte per character
    ends[i] = end;
    weights[i] = buckets[i]!.weight;
  }
  const [hashes, nodes] = native.buildRing(bytes, ends, weights);
  return { hashes, nodes };
}

/** Keys per native call: keeps the joined string and its UTF-16 copy in cache. */
const NATIVE_CHUNK = 4096;

/** True when every key is a string: the only batches the addon serves faster than JS. */
function allStrings(keys: readonly (string | Uint8Array)[]): boolean {
  for (let i = 0; i < keys.length; i++) if (typeof keys[i] !== 'string') return false;
  return true;
}

/**
 * Batch lookup in C++. String keys go over as one joined string per chunk (two N-API calls per
 * chunk instead of three per key); byte keys use the per-element entry point, which only the
 * explicit `implementation: 'native'` selects, because it is slower than the JIT.
 */
function nativeLookup(
  native: NativeBinding,
  hashes: Uint32Array,
  keys: readonly (string | Uint8Array)[],
  out: Uint32Array,
): void {
  if (!allStrings(keys)) {
    native.lookup(hashes, keys, out);
    return;
  }
  const strings = keys as readonly string[];
  const lengths = new Uint32Array(strings.length);
  for (let i = 0; i < strings.length; i++) lengths[i] = strings[i]!.length;
  for (let start = 0; start < strings.length; start += NATIVE_CHUNK) {
    const end = Math.min(start + NATIVE_CHUNK, strings.length);
    const joined =
      start === 0 && end === strings.length ? strings.join('') : strings.slice(start, end).join('');
    native.lookupJoined(hashes, joined, lengths.subarray(start, end), out.subarray(start, end));
  }
}

/** CRC-32 of a lookup key: strings as UTF-8. */
function keyHash(key: string | Uint8Array): number {
  if (typeof key === 'string') return ~crc32UpdateString(CRC32_INIT, key) >>> 0;
  if (key instanceof Uint8Array) return ~crc32Update(CRC32_INIT, key) >>> 0;
  throw new TypeError(`ketama: key must be a string or a Uint8Array, got ${typeof key}`);
}

/**
 * A consistent-hashing ring over {@link Bucket}s, compatible with nginx's
 * `hash $key consistent` (and Pingora's `Continuum`).
 *
 * @example
 * ```ts
 * import { Bucket, Continuum } from '@pingora-ts/ketama';
 *
 * const ring = new Continuum([
 *   new Bucket('127.0.0.1:12345', 1),
 *   new Bucket('127.0.0.2:12345', 2),
 *   new Bucket('127.0.0.3:12345', 3),
 * ]);
 * ring.node('some_key'); // '127.0.0.3:12345'
 * ring.node('last_key'); // '127.0.0.2:12345'
 *
 * // Failover order: the next points on the ring (a server can repeat).
 * const it = ring.nodeIter('some_key');
 * it.next().value; // '127.0.0.3:12345'
 * ```
 */
export class Continuum {
  /** How addresses were hashed. */
  readonly compat: Compat;
  /** The implementation that built this ring: `'ts'` or `'native'`. */
  readonly builtWith: 'ts' | 'native';
  readonly #implementation: Implementation;
  readonly #hashes: Uint32Array;
  readonly #nodes: Uint32Array;
  readonly #addrs: readonly string[];

  /**
   * Build the ring. An empty `buckets` list gives an empty ring whose lookups return `undefined`.
   * Buckets may repeat an address; their points are merged like any other.
   */
  constructor(buckets: Iterable<Bucket>, options: ContinuumOptions = {}) {
    const list = [...buckets];
    for (const b of list) {
      if (!(b instanceof Bucket)) throw new TypeError('ketama: Continuum expects Bucket instances');
    }
    const compat = options.compat ?? 'nginx';
    if (compat !== 'nginx' && compat !== 'pingora') {
      throw new TypeError(`ketama: compat must be 'nginx' or 'pingora', got ${String(compat)}`);
    }
    const implementation = options.implementation ?? 'auto';
    if (implementation !== 'auto' && implementation !== 'ts' && implementation !== 'native') {
      throw new TypeError(
        `ketama: implementation must be 'auto', 'ts' or 'native', got ${String(implementation)}`,
      );
    }
    const native = implementation === 'ts' ? undefined : nativeBinding();
    if (implementation === 'native' && !native) {
      throw new Error(
        "ketama: implementation 'native' requested but the addon is not loaded (not built, or PINGORA_TS_NATIVE=0)",
      );
    }
    // The native build wins at every ring size measured, down to one bucket (bench/native-vs-ts.ts).
    const useNative = native !== undefined;
    const ring = useNative ? buildRingNative(native, list, compat) : buildRingTs(list, compat);
    this.compat = compat;
    this.builtWith = useNative ? 'native' : 'ts';
    this.#implementation = implementation;
    this.#hashes = ring.hashes;
    this.#nodes = ring.nodes;
    this.#addrs = list.map((b) => b.addr);
  }

  /** Number of points on the ring after de-duplication (Pingora's `ring.len()`). */
  get size(): number {
    return this.#hashes.length;
  }

  /** Index of the point serving `key`: the first point whose hash is ≥ `crc32(key)`, wrapping to 0. */
  nodeIdx(key: string | Uint8Array): number {
    return findPoint(this.#hashes, keyHash(key));
  }

  /** The `"ip:port"` serving `key`, or `undefined` for an empty ring. */
  node(key: string | Uint8Array): string | undefined {
    const hashes = this.#hashes;
    if (hashes.length === 0) return undefined;
    return this.#addrs[this.#nodes[findPoint(hashes, keyHash(key))]!];
  }

  /**
   * The servers for `key` in failover order: the point `node(key)` picks, then each following
   * point, wrapping forever. A server appears once per point, so it repeats (unlike nginx's
   * retry loop, which skips servers it already tried). An empty ring yields nothing.
   */
  nodeIter(key: string | Uint8Array): NodeIterator {
    return new NodeIterator(this, this.nodeIdx(key));
  }

  /**
   * Pingora's `get_addr(&mut idx)`: the address of point `cursor.idx`, advancing `cursor.idx` to
   * the next point (wrapping). Returns `undefined` and leaves the cursor alone when `cursor.idx`
   * is not a point index (always, on an empty ring).
   *
   * @example
   * ```ts
   * const cursor = { idx: ring.nodeIdx('doghash') };
   * ring.getAddr(cursor); // primary
   * ring.getAddr(cursor); // next point's server
   * ```
   */
  getAddr(cursor: { idx: number }): string | undefined {
    const idx = cursor.idx;
    const len = this.#hashes.length;
    if (!Number.isInteger(idx) || idx < 0 || idx >= len) return undefined;
    cursor.idx = idx + 1 === len ? 0 : idx + 1;
    return this.#addrs[this.#nodes[idx]!];
  }

  /** `nodeIdx` for many keys at once; the native addon serves large batches. */
  nodeIdxs(keys: readonly (string | Uint8Array)[]): Uint32Array {
    const out = new Uint32Array(keys.length);
    const native = this.#implementation === 'ts' ? undefined : nativeBinding();
    if (
      native &&
      (this.#implementation === 'native' || (keys.length >= NATIVE_BATCH_MIN_KEYS && allStrings(keys)))
    ) {
      nativeLookup(native, this.#hashes, keys, out);
      return out;
    }
    const hashes = this.#hashes;
    for (let i = 0; i < keys.length; i++) out[i] = findPoint(hashes, keyHash(keys[i]!));
    return out;
  }

  /** `node` for many keys at once; `undefined` entries only for an empty ring. */
  nodes(keys: readonly (string | Uint8Array)[]): (string | undefined)[] {
    if (this.#hashes.length === 0) return keys.map(() => undefined);
    const idx = this.nodeIdxs(keys);
    const nodes = this.#nodes;
    const addrs = this.#addrs;
    const out = new Array<string>(idx.length);
    for (let i = 0; i < idx.length; i++) out[i] = addrs[nodes[idx[i]!]!]!;
    return out;
  }
}
