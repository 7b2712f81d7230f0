/**
 * Cache keys: what identifies one cached asset. A {@link CacheKey} holds the parts a user chose
 * (namespace, primary, user tag, variance); storages, the eviction manager and the cache lock only
 * ever see its {@link CompactCacheKey}, the 16-byte hashes that stand for it.
 *
 * Hashes are BLAKE2b with a 16-byte digest length (the digest-length parameter, which is not the
 * same as truncating BLAKE2b-512), so our hex matches Pingora's byte for byte and a storage shared
 * with a Rust deployment finds the same assets.
 */
import { blake2b } from '@noble/hashes/blake2b';
import type { RequestHeader } from '@pingora-ts/http';

/** Length in bytes of every cache hash (primary, variance, combined). */
export const HASH_SIZE = 16;

/** A 16-byte hash. */
export type HashBinary = Uint8Array;

type KeyPart = string | Uint8Array;

const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);

function bytesOf(part: KeyPart): Uint8Array {
  return typeof part === 'string' ? encoder.encode(part) : part;
}

function checkHash(bin: Uint8Array, what: string): Uint8Array {
  if (bin.length !== HASH_SIZE) {
    throw new RangeError(`${what} must be ${HASH_SIZE} bytes, got ${bin.length}`);
  }
  return bin;
}

/** BLAKE2b-128 of the concatenation of `parts`, hashed incrementally (no copy). */
export function hashKey(...parts: KeyPart[]): HashBinary {
  const h = blake2b.create({ dkLen: HASH_SIZE });
  for (const p of parts) h.update(bytesOf(p));
  return h.digest();
}

/** Lowercase hex of a hash. */
export function hex2str(bin: Uint8Array): string {
  return Buffer.from(bin.buffer, bin.byteOffset, bin.byteLength).toString('hex');
}

/** Decodes a 32-character hex string into a 16-byte hash, or `undefined` when it is not one. */
export function str2hex(s: string): HashBinary | undefined {
  if (s.length !== HASH_SIZE * 2 || !/^[0-9a-fA-F]*$/.test(s)) return undefined;
  return new Uint8Array(Buffer.from(s, 'hex'));
}

// Primary hashes of recent keys given as text, by their text: a hit path asks for the same few
// keys again and again, and a table lookup costs far less than BLAKE2b. Bounded; emptied when full.
const MEMO_MAX = 8192;
const memo = new Map<string, HashBinary>();

function memoHash(text: string, namespace: Uint8Array, primary: Uint8Array): HashBinary {
  let h = memo.get(text);
  if (h === undefined) {
    h = hashKey(namespace, primary);
    if (memo.size >= MEMO_MAX) memo.clear();
    memo.set(text, h);
  }
  return h;
}

function combine(primary: HashBinary, variance: HashBinary | undefined): HashBinary {
  // Without variance the combined hash is the primary hash itself, so an asset that later gains
  // a Vary keeps its primary slot.
  return variance === undefined ? primary : hashKey(primary, variance);
}

// An absolute-form target (`http://host/p`) carries the authority when Host is missing.
const ABSOLUTE = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/([^/?#]*)/;

/**
 * The storage-side form of a key: its hashes and the user tag, nothing else. Used as the map key
 * of storages, the cache lock and eviction through {@link CompactCacheKey.combinedHex}.
 */
export class CompactCacheKey {
  /** The primary hash (16 bytes). */
  readonly primary: HashBinary;
  /** The variance hash (16 bytes), when the asset varies. */
  readonly variance: HashBinary | undefined;
  /** A tag for the owner of the asset (per-user quotas, accounting). */
  readonly userTag: string;
  #combinedHex: string | undefined = undefined;

  constructor(primary: HashBinary, variance: HashBinary | undefined, userTag: string) {
    this.primary = checkHash(primary, 'primary');
    this.variance = variance === undefined ? undefined : checkHash(variance, 'variance');
    this.userTag = userTag;
  }

  /** The hash of primary and variance together (the primary hash when there is no variance). */
  combinedBin(): HashBinary {
    return combine(this.primary, this.variance);
  }

  /** Hex of {@link primary}. */
  primaryHex(): string {
    return hex2str(this.primary);
  }

  /** Hex of {@link variance}, or `undefined`. */
  varianceHex(): string | undefined {
    return this.variance === undefined ? undefined : hex2str(this.variance);
  }

  /** {@link combinedHex}, under the name storages and eviction managers key by (a `StorageKey`). */
  get hashKey(): string {
    return this.combinedHex();
  }

  /** Hex of {@link combinedBin}: the string storages and the lock key their maps with. */
  combinedHex(): string {
    // The parts are immutable: computed once however often a storage asks.
    this.#combinedHex ??= hex2str(this.combinedBin());
    return this.#combinedHex;
  }

  /** `"<primary hex>[, variance: <hex>], user_tag: <tag>"`, Pingora's display form. */
  toString(): string {
    const v = this.variance === undefined ? '' : `, variance: ${hex2str(this.variance)}`;
    return `${hex2str(this.primary)}${v}, user_tag: ${this.userTag}`;
  }
}

/**
 * A cache key: `namespace` and `primary` are hashed together into the primary hash; a variance
 * hash (from Vary) selects one variant under it; `userTag` is carried along, never hashed.
 *
 * @example
 * ```ts
 * const key = new CacheKey('', 'example.com/index.html', 'tenant-1');
 * key.primaryHex();                    // BLAKE2b-128 of namespace ‖ primary
 * key.setVarianceKey(varianceHash);    // 16 bytes, e.g. from the Vary'd request headers
 * const compact = key.toCompact();
 * storage.get(compact.combinedHex());
 * ```
 */
export class CacheKey {
  /** The namespace, hashed before the primary (bytes, or a string hashed as UTF-8). */
  readonly namespace: Uint8Array;
  /** The primary key (bytes, or a string hashed as UTF-8). */
  readonly primary: Uint8Array;
  /** A tag for the owner of the asset; not part of any hash. */
  userTag: string;
  /** Per-request data for user code; never stored. */
  readonly extensions: Record<string, unknown> = {};
  #variance: HashBinary | undefined = undefined;
  #primaryOverride: HashBinary | undefined = undefined;
  #primaryBin: HashBinary | undefined = undefined;
  // Namespace and primary as one unambiguous string when both were given as text (memo key).
  #text: string | undefined = undefined;

  constructor(namespace: KeyPart, primary: KeyPart, userTag = '') {
    this.namespace = bytesOf(namespace);
    this.primary = bytesOf(primary);
    this.userTag = userTag;
    if (typeof namespace === 'string' && typeof primary === 'string') {
      this.#text = `${namespace.length}:${namespace}${primary}`;
    }
  }

  /**
   * A key of `host + path?query` from the request, in the empty namespace with an empty user tag.
   * The host comes from the Host header, else the authority of an absolute-form target. This is a
   * convenience, not a policy: it ignores the scheme and Vary, and Pingora itself removed its
   * default key so that callers decide what belongs in theirs.
   */
  static default(req: RequestHeader): CacheKey {
    let host = req.headers.get('host');
    if (host === undefined) host = ABSOLUTE.exec(req.uri)?.[1] ?? '';
    const q = req.query();
    const pq = q === undefined ? req.path() : `${req.path()}?${q}`;
    // Targets and header values are latin1 strings (one char per byte): hash those bytes.
    const text = host + pq;
    const key = new CacheKey(EMPTY, Buffer.from(text, 'latin1'));
    // `b` marks latin1 bytes, so this text never meets a UTF-8 one in the memo.
    key.#text = `b:${text}`;
    return key;
  }

  /** Sets the variance hash (16 bytes). */
  setVarianceKey(variance: HashBinary): void {
    this.#variance = checkHash(variance, 'variance');
  }

  /** The variance hash, if set. */
  getVarianceKey(): HashBinary | undefined {
    return this.#variance;
  }

  /** Removes the variance hash. */
  removeVarianceKey(): void {
    this.#variance = undefined;
  }

  /** Uses `bin` (16 bytes) as the primary hash instead of hashing namespace and primary. */
  setPrimaryBinOverride(bin: HashBinary): void {
    this.#primaryOverride = checkHash(bin, 'primary override');
  }

  /** The primary key as UTF-8 text, or `undefined` when it is not valid UTF-8. */
  primaryKeyStr(): string | undefined {
    return utf8OrUndefined(this.primary);
  }

  /** The namespace as UTF-8 text, or `undefined` when it is not valid UTF-8. */
  namespaceStr(): string | undefined {
    return utf8OrUndefined(this.namespace);
  }

  /** The primary hash: the override if set, else BLAKE2b-128(namespace ‖ primary). */
  primaryBin(): HashBinary {
    if (this.#primaryOverride !== undefined) return this.#primaryOverride;
    // Namespace and primary are immutable, so the hash is computed once.
    if (this.#primaryBin === undefined) {
      const text = this.#text;
      this.#primaryBin =
        text === undefined
          ? hashKey(this.namespace, this.primary)
          : memoHash(text, this.namespace, this.primary);
    }
    return this.#primaryBin;
  }

  /** The hash of primary and variance (the primary hash when there is no variance). */
  combinedBin(): HashBinary {
    return combine(this.primaryBin(), this.#variance);
  }

  /** Hex of {@link primaryBin}. */
  primaryHex(): string {
    return hex2str(this.primaryBin());
  }

  /** Hex of the variance hash, or `undefined`. */
  varianceHex(): string | undefined {
    return this.#variance === undefined ? undefined : hex2str(this.#variance);
  }

  /** Hex of {@link combinedBin}. */
  combinedHex(): string {
    return hex2str(this.combinedBin());
  }

  /** The storage form of this key. */
  toCompact(): CompactCacheKey {
    return new CompactCacheKey(this.primaryBin(), this.#variance, this.userTag);
  }
}

function utf8OrUndefined(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}
