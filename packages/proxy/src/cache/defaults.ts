/**
 * What the cache phases do when the user leaves them out: the cache key from host and path, RFC
 * 9111 freshness without heuristics, variance from the response's Vary, 304 and range answers
 * from the cached head, and stale served only instead of an upstream error.
 */
import {
  CacheControl,
  CacheKey,
  type CacheMeta,
  CacheMetaDefaults,
  type HashBinary,
  NoCacheReason,
  notModifiedFilter,
  type RangeType,
  RespCacheable,
  rangeHeaderFilter,
  requestCacheable,
  respCacheable,
  type VARY_UNCACHEABLE,
  varianceFromVary,
} from '@pingora-ts/cache';
import { ErrorSource, type PingoraError } from '@pingora-ts/error';
import type { RequestHeader, ResponseHeader } from '@pingora-ts/http';
import type { Phases } from '../phases.js';
import type { Session } from '../session.js';

// No heuristic lifetime and no stale windows beyond what the origin grants.
const NO_DEFAULTS = new CacheMetaDefaults(() => undefined, 0, 0);

/** Why a response with `Vary: *` (or a Vary name the filter refuses) is not stored. */
export const VARY_NOT_CACHEABLE = NoCacheReason.Custom('Vary');

/** @internal The cache key of the request. */
export function cacheKeyOf<Ctx>(p: Phases<Ctx>, session: Session, ctx: Ctx): CacheKey {
  return p.cacheKeyCallback !== null
    ? p.cacheKeyCallback(session, ctx)
    : CacheKey.default(session.reqHeader());
}

/**
 * @internal Whether and how long to store `resp`. The meta gets its own copy of the head, so the
 * filters that run on the way to the client never change what is stored.
 */
export function responseCacheable<Ctx>(
  p: Phases<Ctx>,
  session: Session,
  resp: ResponseHeader,
  ctx: Ctx,
): RespCacheable {
  let r: RespCacheable;
  if (p.responseCacheFilter !== null) {
    r = p.responseCacheFilter(session, resp, ctx);
  } else {
    const req = session.reqHeader();
    if (!requestCacheable(req)) return RespCacheable.uncacheable('OriginNotCache');
    const auth = req.headers.get('authorization') !== undefined;
    const meta = respCacheable(CacheControl.fromHeaders(resp.headers), resp.clone(), auth, NO_DEFAULTS);
    r = meta === undefined ? RespCacheable.uncacheable('OriginNotCache') : RespCacheable.cacheable(meta);
  }
  if (r.kind === 'Cacheable' && r.meta.header === resp) r.meta.header = resp.clone();
  return r;
}

/** @internal The variance of `req` for `meta`; `VARY_UNCACHEABLE` only from the default. */
export function varianceOf<Ctx>(
  p: Phases<Ctx>,
  meta: CacheMeta,
  ctx: Ctx,
  req: RequestHeader,
): HashBinary | undefined | typeof VARY_UNCACHEABLE {
  if (p.cacheVaryFilter !== null) return p.cacheVaryFilter(meta, ctx, req);
  return varianceFromVary(req, meta.header);
}

/** @internal Whether the client's conditional request gets a 304 from `resp`. */
export function notModified<Ctx>(p: Phases<Ctx>, session: Session, resp: ResponseHeader, ctx: Ctx): boolean {
  if (p.cacheNotModifiedFilter !== null) return p.cacheNotModifiedFilter(session, resp, ctx);
  return notModifiedFilter(session.reqHeader(), resp);
}

/** @internal The client's Range applied to `resp`. */
export function rangeOf<Ctx>(p: Phases<Ctx>, session: Session, resp: ResponseHeader, ctx: Ctx): RangeType {
  if (p.rangeHeaderFilter !== null) return p.rangeHeaderFilter(session, resp, ctx);
  return rangeHeaderFilter(session.reqHeader(), resp);
}

/** @internal Whether stale may be served (Pingora's default: only instead of an upstream error). */
export function serveStale<Ctx>(
  p: Phases<Ctx>,
  session: Session,
  ctx: Ctx,
  error: PingoraError | undefined,
): boolean {
  if (p.shouldServeStale !== null) return p.shouldServeStale(session, ctx, error);
  return error !== undefined && error.source === ErrorSource.Upstream;
}
