/**
 * The answer of a response cache filter (Pingora's `RespCacheable`): store the response with this
 * meta, or do not, for this reason.
 */
import type { CacheMeta } from '../meta.js';
import type { NoCacheReason } from '../no-cache-reason.js';

/** A response to store with its meta, or one not to store and why. */
export type RespCacheable =
  | { readonly kind: 'Cacheable'; readonly meta: CacheMeta }
  | { readonly kind: 'Uncacheable'; readonly reason: NoCacheReason };

/**
 * Constructors and a guard for {@link RespCacheable}.
 *
 * @example
 * ```ts
 * const meta = respCacheable(CacheControl.fromHeaders(resp.headers), resp, false, defaults);
 * const decision = meta === undefined
 *   ? RespCacheable.uncacheable(NoCacheReason.OriginNotCache)
 *   : RespCacheable.cacheable(meta);
 * if (RespCacheable.isCacheable(decision)) cache.setCacheMeta(decision.meta);
 * ```
 */
export const RespCacheable = {
  /** Store the response with `meta`. */
  cacheable(meta: CacheMeta): RespCacheable {
    return { kind: 'Cacheable', meta };
  },
  /** Do not store the response. */
  uncacheable(reason: NoCacheReason): RespCacheable {
    return { kind: 'Uncacheable', reason };
  },
  /** Narrows to the cacheable case. */
  isCacheable(r: RespCacheable): r is Extract<RespCacheable, { kind: 'Cacheable' }> {
    return r.kind === 'Cacheable';
  },
} as const;
