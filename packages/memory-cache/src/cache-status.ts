/**
 * `CacheStatus`: how a lookup was answered. Pingora's enum as frozen singletons plus a factory for
 * the one variant that carries data (`Stale(Duration)`, here milliseconds), in the style of
 * `ErrorType` in `@pingora-ts/error`. Compare singletons with `===`, stale ones by `kind`.
 */

/** The status names (Pingora's `as_str()`). */
export type CacheStatusKind = 'hit' | 'miss' | 'expired' | 'lock_hit' | 'stale';

const NAMES: Record<CacheStatusKind, string> = {
  hit: 'Hit',
  miss: 'Miss',
  expired: 'Expired',
  lock_hit: 'LockHit',
  stale: 'Stale',
};

/**
 * The outcome of a cache read.
 *
 * @example
 * ```ts
 * const [value, status] = cache.getStale('k');
 * if (status === CacheStatus.Hit) use(value);
 * else if (status.kind === 'stale') console.log(`stale for ${status.stale()} ms`);
 * ```
 */
export class CacheStatus {
  /** Found and fresh. */
  static readonly Hit = new CacheStatus('hit', undefined);
  /** Not in the cache. */
  static readonly Miss = new CacheStatus('miss', undefined);
  /** In the cache but past its TTL (left in place; `getStale` can still serve it). */
  static readonly Expired = new CacheStatus('expired', undefined);
  /** Not found at first, then found after waiting for another caller's lookup (`RTCache`). */
  static readonly LockHit = new CacheStatus('lock_hit', undefined);

  /** Past its TTL but served anyway, `ms` milliseconds after it expired. */
  static Stale(ms: number): CacheStatus {
    return new CacheStatus('stale', ms);
  }

  private constructor(
    /** Which status this is. */
    readonly kind: CacheStatusKind,
    private readonly staleMs: number | undefined,
  ) {
    Object.freeze(this);
  }

  /** `'hit' | 'miss' | 'expired' | 'lock_hit' | 'stale'` (Pingora's `as_str`). */
  asStr(): CacheStatusKind {
    return this.kind;
  }

  /** True for `hit`, `lock_hit` and `stale`: a value was returned. */
  isHit(): boolean {
    return this.kind === 'hit' || this.kind === 'lock_hit' || this.kind === 'stale';
  }

  /** How long past its expiry a stale value was, in milliseconds; `undefined` for other statuses. */
  stale(): number | undefined {
    return this.staleMs;
  }

  /** The status name, so statuses print well in logs and template strings. */
  toString(): string {
    return this.kind;
  }

  /** `console.log` shows `CacheStatus.Hit`, `CacheStatus.Stale(50)`. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    if (this.kind === 'stale') return `CacheStatus.Stale(${this.staleMs})`;
    return `CacheStatus.${NAMES[this.kind]}`;
  }
}
