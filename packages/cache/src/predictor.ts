/**
 * The cacheability predictor: remembers which keys recently came back uncacheable so the next
 * request for them can bypass the cache (and its lock) from the start instead of queueing behind a
 * writer whose response will not be stored anyway.
 */
import type { BuiltinNoCacheReason, NoCacheReason } from './no-cache-reason.js';

/**
 * What the cache asks of a predictor, so an application may bring its own (Pingora's
 * `CacheablePredictor`). Keys are primary-key hashes (`CacheKey.primaryHex()`): the prediction is
 * made before the lookup, when the variance is not known yet.
 */
export interface CacheablePredictor {
  /** True when the key is likely cacheable, false when it was recently seen uncacheable. */
  cacheablePrediction(key: string): boolean;
  /** Forgets that the key was uncacheable. Returns false if it was remembered, true if it was not. */
  markCacheable(key: string): boolean;
  /**
   * Remembers the key as uncacheable, unless the reason is one not worth remembering. Returns
   * `undefined` when skipped, false when it was already remembered, true when newly remembered.
   */
  markUncacheable(key: string, reason: NoCacheReason): boolean | undefined;
}

/** Settings of a {@link Predictor}. */
export interface PredictorOptions {
  /** How many uncacheable keys to remember; the least recently marked are forgotten first. */
  readonly capacity: number;
  /**
   * The built-in reasons worth remembering. Default: `OriginNotCache` and `ResponseTooLarge`, the
   * ones that say something about the asset rather than about this one attempt (a storage or
   * upstream error, a lock timeout, a reader of a lock whose writer will mark the key itself).
   */
  readonly rememberReasons?: Iterable<BuiltinNoCacheReason>;
  /**
   * Custom reasons are remembered unless this returns true for them.
   */
  readonly skipCustomReasons?: (reason: string) => boolean;
}

const DEFAULT_REMEMBER: readonly BuiltinNoCacheReason[] = ['OriginNotCache', 'ResponseTooLarge'];

/**
 * A bounded LRU of keys whose responses were uncacheable.
 *
 * Checking a prediction does not refresh a key: the caller is expected to mark the key again
 * (cacheable or not) once it has seen the response, and that is what keeps it recent.
 *
 * @example
 * ```ts
 * const predictor = new Predictor({ capacity: 10_000, skipCustomReasons: (r) => r === 'Sampling' });
 * const primary = cacheKey.primaryHex();
 * if (!predictor.cacheablePrediction(primary)) bypassCache();
 * // ...after the response:
 * if (cacheable) predictor.markCacheable(primary);
 * else predictor.markUncacheable(primary, NoCacheReason.OriginNotCache);
 * ```
 */
export class Predictor implements CacheablePredictor {
  /** Insertion order is recency order: the first key is the least recently marked. */
  readonly #keys = new Map<string, true>();
  readonly #capacity: number;
  readonly #remember: ReadonlySet<string>;
  readonly #skipCustom: ((reason: string) => boolean) | undefined;

  constructor(options: PredictorOptions) {
    const { capacity } = options;
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    }
    this.#capacity = capacity;
    this.#remember = new Set<string>(options.rememberReasons ?? DEFAULT_REMEMBER);
    this.#skipCustom = options.skipCustomReasons;
  }

  /** How many keys are remembered as uncacheable. */
  get size(): number {
    return this.#keys.size;
  }

  /** The most keys remembered at once. */
  get capacity(): number {
    return this.#capacity;
  }

  cacheablePrediction(key: string): boolean {
    return !this.#keys.has(key);
  }

  markCacheable(key: string): boolean {
    return !this.#keys.delete(key);
  }

  markUncacheable(key: string, reason: NoCacheReason): boolean | undefined {
    if (typeof reason === 'string') {
      if (!this.#remember.has(reason)) return undefined;
    } else if (this.#skipCustom?.(reason.custom) === true) {
      return undefined;
    }
    const known = this.#keys.delete(key);
    this.#keys.set(key, true);
    if (!known && this.#keys.size > this.#capacity) {
      const oldest = this.#keys.keys().next();
      if (oldest.done !== true) this.#keys.delete(oldest.value);
    }
    return !known;
  }
}
