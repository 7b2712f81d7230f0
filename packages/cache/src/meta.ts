/**
 * Cache metadata: when an asset was stored, until when it is fresh, how long it may be served
 * stale, its variance and its response head. Every time is a number of **milliseconds since the
 * Unix epoch** (what `Date.now()` returns); the stale windows are whole seconds, as the
 * directives that set them are.
 */
import type { HeaderView, ResponseHeader } from '@pingora-ts/http';
import { HASH_SIZE, type HashBinary } from './key.js';
import { decodeMeta, encodeMeta } from './meta-codec.js';

/** The fields a {@link CacheMeta} is built from. */
export interface CacheMetaInit {
  /** Fresh up to and including this time (ms). */
  freshUntil: number;
  /** When the asset was stored (ms). */
  created: number;
  /** When it was last stored or revalidated (ms); defaults to `created`. */
  updated?: number;
  /** Seconds after `freshUntil` during which it may be served while revalidating. */
  staleWhileRevalidateSec: number;
  /** Seconds after `freshUntil` during which it may be served when the origin fails. */
  staleIfErrorSec: number;
  /** The response head to replay on a hit. */
  header: ResponseHeader;
  /** The variance hash (16 bytes) of the variant this is. */
  variance?: HashBinary | undefined;
  /** Reference time for age and freshness lifetime instead of `updated` (ms). */
  epochOverride?: number | undefined;
}

/**
 * What is stored next to a cached body.
 *
 * @example
 * ```ts
 * const now = Date.now();
 * const meta = new CacheMeta({
 *   freshUntil: now + 60_000, created: now, staleWhileRevalidateSec: 30, staleIfErrorSec: 300,
 *   header: resp,
 * });
 * meta.isFresh(now + 59_000);                       // true
 * meta.canServeStaleWhileRevalidate(now + 80_000);  // true: within 30 s after freshUntil
 * const copy = CacheMeta.deserialize(meta.serialize());
 * ```
 */
export class CacheMeta {
  /** Fresh up to and including this time (ms). */
  freshUntil: number;
  /** When the asset was first stored (ms). */
  created: number;
  /** When it was last stored or revalidated (ms). */
  updated: number;
  /** Seconds after {@link freshUntil} it may be served while revalidating (0: never). */
  staleWhileRevalidateSec: number;
  /** Seconds after {@link freshUntil} it may be served when the origin fails (0: never). */
  staleIfErrorSec: number;
  /** The response head to replay on a hit. */
  header: ResponseHeader;
  /** The variance hash of this variant, if it varies. */
  variance: HashBinary | undefined;
  /** Reference time for {@link age} and {@link freshSec} instead of {@link updated} (ms). */
  epochOverride: number | undefined;
  /** Per-request data for user code; not serialized. */
  extensions: Record<string, unknown> = {};

  constructor(init: CacheMetaInit) {
    this.freshUntil = init.freshUntil;
    this.created = init.created;
    this.updated = init.updated ?? init.created;
    this.staleWhileRevalidateSec = init.staleWhileRevalidateSec;
    this.staleIfErrorSec = init.staleIfErrorSec;
    this.header = init.header;
    this.variance = init.variance === undefined ? undefined : checkVariance(init.variance);
    this.epochOverride = init.epochOverride;
  }

  /** The header fields, case-insensitive (`meta.headers.get('etag')`). */
  get headers(): HeaderView {
    return this.header.headers;
  }

  /** The time age and freshness are measured from: {@link epochOverride} or {@link updated}. */
  epoch(): number {
    return this.epochOverride ?? this.updated;
  }

  /** Whether the asset is fresh at `now` (ms): `freshUntil >= now`. */
  isFresh(now: number): boolean {
    return this.freshUntil >= now;
  }

  /** Whole seconds of freshness from {@link epoch} to {@link freshUntil} (0 if negative). */
  freshSec(): number {
    return Math.max(0, Math.floor((this.freshUntil - this.epoch()) / 1000));
  }

  /** Whole seconds since {@link epoch} at `now` (ms), never negative: the value of an Age header. */
  age(now: number): number {
    return Math.max(0, Math.floor((now - this.epoch()) / 1000));
  }

  /** Whether at `now` (ms) it may be served stale while it is being revalidated. */
  canServeStaleWhileRevalidate(now: number): boolean {
    return this.canServeStale(this.staleWhileRevalidateSec, now);
  }

  /** Whether at `now` (ms) it may be served stale because the origin failed. */
  canServeStaleIfError(now: number): boolean {
    return this.canServeStale(this.staleIfErrorSec, now);
  }

  /** Forbids serving this asset stale for either reason. */
  disableServeStale(): void {
    this.staleWhileRevalidateSec = 0;
    this.staleIfErrorSec = 0;
  }

  /** Sets the variance hash (16 bytes). */
  setVariance(variance: HashBinary): void {
    this.variance = checkVariance(variance);
  }

  /** Removes the variance hash. */
  removeVariance(): void {
    this.variance = undefined;
  }

  private canServeStale(sec: number, now: number): boolean {
    // A window ends at freshUntil + sec inclusive; 0 means no window at all, not "until freshUntil".
    return sec !== 0 && this.freshUntil + sec * 1000 >= now;
  }

  /**
   * The versioned binary form (see `meta-codec.ts`): times, stale windows, variance and the
   * response head. {@link extensions} are not included.
   */
  serialize(): Buffer {
    return encodeMeta(this);
  }

  /**
   * Reads what {@link serialize} wrote. Throws a `PingoraError` (`InternalError`) for an unknown
   * version or a truncated or corrupt buffer.
   */
  static deserialize(buf: Uint8Array): CacheMeta {
    return new CacheMeta(decodeMeta(buf));
  }
}

function checkVariance(v: HashBinary): HashBinary {
  if (v.length !== HASH_SIZE) throw new RangeError(`variance must be ${HASH_SIZE} bytes, got ${v.length}`);
  return v;
}

/** Freshness in seconds by status for responses that state none, `undefined`: do not cache. */
export type FreshSecByStatus = (status: number) => number | undefined;

/**
 * What a response gets when its headers do not say: heuristic freshness by status, and the
 * default stale-while-revalidate and stale-if-error windows.
 *
 * @example
 * ```ts
 * const defaults = new CacheMetaDefaults((s) => (s === 200 ? 60 : s === 404 ? 5 : undefined), 0, 300);
 * defaults.freshSec(304); // 60: a 304 refreshes a 200
 * ```
 */
export class CacheMetaDefaults {
  readonly #freshSecFn: FreshSecByStatus;
  readonly #swrSec: number;
  readonly #sieSec: number;

  constructor(freshSecFn: FreshSecByStatus, staleWhileRevalidateSec: number, staleIfErrorSec: number) {
    this.#freshSecFn = freshSecFn;
    this.#swrSec = staleWhileRevalidateSec;
    this.#sieSec = staleIfErrorSec;
  }

  /** Default freshness (s) for `status`, `undefined` for "do not cache". A 304 uses the 200 one. */
  freshSec(status: number): number | undefined {
    return this.#freshSecFn(status === 304 ? 200 : status);
  }

  /** Default stale-while-revalidate window (s). */
  serveStaleWhileRevalidateSec(): number {
    return this.#swrSec;
  }

  /** Default stale-if-error window (s). */
  serveStaleIfErrorSec(): number {
    return this.#sieSec;
  }
}
