/**
 * Deciding, at the upstream response head, whether a miss is stored: `responseCacheFilter`, the
 * bypassed request whose response turned out cacheable, the max file size, Vary, then the storage
 * write's start (Pingora's `cache_http_task` on the header). Also the 304 that revalidates a stale
 * asset.
 */
import type { HttpCache } from '@pingora-ts/cache';
import { VARY_UNCACHEABLE } from '@pingora-ts/cache';
import type { ResponseHeader } from '@pingora-ts/http';
import type { Session } from '../session.js';
import { responseCacheable, VARY_NOT_CACHEABLE, varianceOf } from './defaults.js';
import type { ProxyCache } from './proxy-cache.js';

/** What the head decided. */
export interface StoreDecision {
  /** The body goes to the storage; `opened` settles once the write is open (or failed to open). */
  opened: Promise<boolean> | undefined;
  /** The response is too large to store: the client's Range is not applied to it either. */
  tooLarge: boolean;
  /**
   * Predicted uncacheable, found cacheable, but of unknown length under a max file size: count the
   * body against this limit and tell the predictor at the end if it fit.
   */
  countUpTo: number | undefined;
}

/** @internal The Content-Length of `resp`, when it has a valid one. */
export function contentLengthOf(resp: ResponseHeader): number | undefined {
  const v = resp.headers.get('content-length');
  if (v === undefined || !/^\d+$/.test(v)) return undefined;
  return Number(v);
}

/** @internal Decides whether the response whose head is `resp` is stored, and opens the write. */
export function startStoring<Ctx>(
  owner: ProxyCache<Ctx>,
  session: Session,
  ctx: Ctx,
  cache: HttpCache,
  resp: ResponseHeader,
): StoreDecision {
  const no: StoreDecision = { opened: undefined, tooLarge: false, countUpTo: undefined };
  const p = owner.phases;
  let r: ReturnType<typeof responseCacheable>;
  try {
    r = responseCacheable(p, session, resp, ctx);
  } catch (e) {
    owner.warn(session, ctx, 'responseCacheFilter failed', e);
    cache.disable('InternalError');
    return no;
  }
  if (r.kind === 'Uncacheable') {
    if (cache.bypassing()) cache.disable(r.reason);
    else cache.responseBecameUncacheable(r.reason);
    return no;
  }
  const meta = r.meta;
  const max = cache.maxFileSizeBytes();
  const length = contentLengthOf(resp);
  if (cache.bypassing()) {
    // Predicted uncacheable, cacheable after all. Of unknown length under a max file size, the
    // body is counted first; otherwise it is remembered, and stored when it is a plain 200.
    if (max !== undefined && length === undefined) {
      cache.disable('PredictedResponseTooLarge');
      return { ...no, countUpTo: max };
    }
    cache.responseBecameCacheable();
    if (session.reqHeader().method !== 'GET' || meta.header.status !== 200) {
      cache.disable('Deferred');
      return no;
    }
    cache.cacheMiss();
    p.cacheMiss?.(session, ctx);
    if (!cache.enabled()) return no;
  }
  if (max !== undefined && length !== undefined && length > max) {
    cache.responseBecameUncacheable('ResponseTooLarge');
    return { ...no, tooLarge: true };
  }
  const variance = varianceOf(p, meta, ctx, session.reqHeader());
  if (variance === VARY_UNCACHEABLE) {
    cache.responseBecameUncacheable(VARY_NOT_CACHEABLE);
    return no;
  }
  cache.setCacheMeta(meta);
  cache.updateVariance(variance);
  const opened = cache.setMissHandler().catch((e: unknown) => {
    owner.warn(session, ctx, 'opening the cache write failed', e);
    return false;
  });
  return { ...no, opened };
}

/** @internal The origin confirmed the stale asset (304): its meta is refreshed from the merged head. */
export async function revalidate<Ctx>(
  owner: ProxyCache<Ctx>,
  session: Session,
  ctx: Ctx,
  cache: HttpCache,
  resp: ResponseHeader,
): Promise<void> {
  const merged = cache.revalidateMergeHeader(resp);
  try {
    const r = responseCacheable(owner.phases, session, merged, ctx);
    if (r.kind === 'Cacheable') await cache.revalidateCacheMeta(r.meta);
    else cache.revalidateUncacheable(merged, r.reason);
  } catch (e) {
    owner.warn(session, ctx, 'revalidating the cached asset failed', e);
    if (cache.phase === 'Stale') cache.revalidateUncacheable(merged, 'InternalError');
  }
}
