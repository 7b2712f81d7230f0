/**
 * The proxy's cache phases, in Pingora's order: `requestCacheFilter`, `cacheKeyCallback`,
 * `isPurge`, the predictor's bypass, then the lookup loop (`cacheVaryFilter` and the variant
 * lookup, `cacheHitFilter`, the cache lock for misses and stale assets, stale-while-revalidate
 * with a background refresh) and serving a hit (`cacheNotModifiedFilter`, `rangeHeaderFilter`,
 * then the same response writer an upstream response goes through). Made only for a proxy that
 * defines `requestCacheFilter`.
 */
import {
  type HttpCache,
  type HitStatus,
  isFresh,
  isTreatedAsMiss,
  type LockStatus,
  purgeResponse,
  type PurgeStatus,
  RangeBodyFilter,
  type RangeType,
  toNotModified,
  VARY_UNCACHEABLE,
  type WritePermit,
} from '@pingora-ts/cache';
import type { Logger } from '@pingora-ts/core';
import { ErrorType, PingoraError } from '@pingora-ts/error';
import type { ResponseHeader } from '@pingora-ts/http';
import { isPromise, type Phases } from '../phases.js';
import { ResponseWriter } from '../response-writer.js';
import type { Session } from '../session.js';
import { cacheKeyOf, notModified, rangeOf, serveStale, varianceOf } from './defaults.js';
import { CacheHitSource } from './hit-source.js';

/** How a response served from the cache went: all out, or the error that cut it. */
export type ServedOutcome = 'served' | PingoraError;

/** How the cache phases left a request: go upstream, answered, or answered with an error. */
export type CacheOutcome = 'upstream' | ServedOutcome;

/** What the cache phases need from the proxy. */
export interface CacheOwner<Ctx> {
  readonly phases: Phases<Ctx>;
  readonly logger: Logger;
  /** Runs a background request that refreshes the stale asset of `session`, holding `permit`. */
  spawnBackgroundRefresh(session: Session, permit: WritePermit): void;
}

function sameBytes(a: Uint8Array, b: Uint8Array | undefined): boolean {
  return b !== undefined && Buffer.compare(a, b) === 0;
}

/** @internal */
export class ProxyCache<Ctx> {
  readonly phases: Phases<Ctx>;

  constructor(private readonly owner: CacheOwner<Ctx>) {
    this.phases = owner.phases;
  }

  /** @internal One log line for a cache step that failed without failing the request. */
  warn(session: Session, ctx: Ctx, what: string, e: unknown): void {
    const f = this.phases.requestSummary;
    const summary = f !== null ? f(session, ctx) : session.requestSummary();
    session.logger.warn({ err: e }, `${what}: ${e instanceof Error ? e.message : String(e)}, ${summary}`);
  }

  /** The cache phases before the upstream: resolves with how the request was left. */
  async lookup(session: Session, ctx: Ctx): Promise<CacheOutcome> {
    const p = this.phases;
    try {
      const r = p.requestCacheFilter!(session, ctx);
      if (isPromise(r)) await r;
    } catch (e) {
      this.warn(session, ctx, 'requestCacheFilter failed', e);
    }
    const cache = session.cacheIfUsed;
    if (cache?.enabled()) {
      try {
        cache.setCacheKey(cacheKeyOf(p, session, ctx));
      } catch (e) {
        cache.disable('StorageError');
        this.warn(session, ctx, 'cacheKeyCallback failed', e);
      }
    }
    if (p.isPurge?.(session, ctx)) return this.purge(session, ctx, cache);
    if (cache === undefined || !cache.enabled()) return 'upstream';
    if (!cache.cacheablePrediction()) {
      cache.bypass();
      return 'upstream';
    }
    return this.lookupLoop(session, ctx, cache);
  }

  private async lookupLoop(session: Session, ctx: Ctx, cache: HttpCache): Promise<CacheOutcome> {
    const p = this.phases;
    for (;;) {
      let found: Awaited<ReturnType<HttpCache['cacheLookup']>>;
      try {
        found = await cache.cacheLookup();
      } catch (e) {
        this.warn(session, ctx, 'cache lookup failed', e);
        cache.disable('StorageError');
        return 'upstream';
      }
      let status: HitStatus | undefined;
      if (found !== undefined) {
        const { meta, hit } = found;
        const keyVariance = cache.cacheKey().getVarianceKey();
        if (keyVariance === undefined) {
          const v = varianceOf(p, meta, ctx, session.reqHeader());
          if (v !== VARY_UNCACHEABLE && cache.cacheVaryLookup(v, meta)) {
            // Not this request's variant: look up the slot of the one it wants.
            await hit.finish().catch(() => undefined);
            continue;
          }
        } else if (!sameBytes(keyVariance, meta.variance)) {
          this.warn(
            session,
            ctx,
            'cache variance mismatch',
            new Error('the variant found is not the one asked for'),
          );
          await hit.finish().catch(() => undefined);
          cache.disable('InternalError');
          return 'upstream';
        }
        status = await this.hitStatus(session, ctx, found);
        cache.cacheFound(meta, hit, status);
      }
      if (status === undefined || isTreatedAsMiss(status)) {
        if (cache.isCacheLocked()) {
          const again = await this.waitLock(session, ctx, cache);
          if (again === true) continue;
          return again === false ? 'upstream' : again;
        }
        cache.cacheMiss();
        p.cacheMiss?.(session, ctx);
        return 'upstream';
      }
      if (!isFresh(status)) {
        if (cache.isCacheLocked()) {
          const permit = session.refreshPermit;
          if (permit !== undefined) {
            // This is the background refresh: it takes over the lock its parent holds.
            session.refreshPermit = undefined;
            cache.setWriteLock(permit);
            return 'upstream';
          }
          if (!(cache.canServeStaleUpdating() && serveStale(p, session, ctx, undefined))) {
            const again = await this.waitLock(session, ctx, cache);
            if (again === true) continue;
            return again === false ? 'upstream' : again;
          }
          cache.setStaleUpdating();
        } else if (cache.isCacheLockWriter()) {
          if (!(cache.canServeStaleUpdating() && serveStale(p, session, ctx, undefined))) return 'upstream';
          this.owner.spawnBackgroundRefresh(session, cache.takeWriteLock());
          cache.setStaleUpdating();
        } else {
          return 'upstream';
        }
      }
      return this.serveHit(session, ctx, cache);
    }
  }

  private async hitStatus(
    session: Session,
    ctx: Ctx,
    found: { meta: import('@pingora-ts/cache').CacheMeta; hit: import('@pingora-ts/cache').HitHandler },
  ): Promise<HitStatus> {
    const fresh = found.meta.isFresh(Date.now());
    const f = this.phases.cacheHitFilter;
    if (f === null) return fresh ? 'Fresh' : 'Expired';
    try {
      let forced = f(session, found.meta, found.hit, fresh, ctx);
      if (isPromise(forced)) forced = await forced;
      if (forced === undefined) return fresh ? 'Fresh' : 'Expired';
      return forced;
    } catch (e) {
      this.warn(session, ctx, 'cacheHitFilter failed', e);
      return 'FailedHitFilter';
    }
  }

  // Waits on the request fetching the asset. True: look up again; false: go upstream uncached;
  // an error: the client left while waiting.
  private async waitLock(session: Session, ctx: Ctx, cache: HttpCache): Promise<boolean | PingoraError> {
    let gone: PingoraError | undefined;
    session.downstream.onClientGone((reason) => {
      gone =
        reason ?? PingoraError.explain(ErrorType.ConnectionClosed, 'client closed the connection').asDown();
      cache.cancelLockWait();
    });
    const status: LockStatus = await cache.cacheLockWait();
    if (gone !== undefined) {
      cache.disable('InternalError');
      return gone;
    }
    switch (status) {
      case 'GiveUp':
        cache.disable('CacheLockGiveUp');
        return false;
      case 'WaitTimeout':
        this.warn(
          session,
          ctx,
          'cache lock timeout',
          new Error('waited too long for the request fetching the asset'),
        );
        cache.disable('CacheLockTimeout');
        return false;
      case 'Dangling':
        this.warn(
          session,
          ctx,
          'dangling cache lock',
          new Error('the fetching request ended without a result'),
        );
        return true;
      default:
        return true;
    }
  }

  /** Serves the cached asset of `cache` (fresh, stale or revalidated) through a response writer. */
  async serveHit(session: Session, ctx: Ctx, cache: HttpCache): Promise<ServedOutcome> {
    const p = this.phases;
    const meta = cache.cacheMeta();
    const hit = cache.hitHandler();
    const header = meta.header.clone();
    if (!cache.upstreamUsed()) header.insertHeader('Age', String(meta.age(Date.now())));
    let headerOnly = session.reqHeader().method === 'HEAD';
    let range: RangeType | undefined;
    try {
      if (notModified(p, session, header, ctx)) {
        toNotModified(header);
        headerOnly = true;
      } else {
        // A HEAD gets the head a GET with its Range would get (206, Content-Range).
        range = rangeOf(p, session, header, ctx);
      }
    } catch (e) {
      this.warn(session, ctx, 'a cache response filter failed on a hit', e);
    }
    let rangeBody: RangeBodyFilter | undefined;
    if (range?.kind === 'Invalid') headerOnly = true;
    else if (headerOnly || range === undefined || range.kind === 'None') rangeBody = undefined;
    else if (range.kind === 'Single' && hit.canSeek()) hit.seek(range.range.start, range.range.end);
    else rangeBody = new RangeBodyFilter(range);
    const writer = new ResponseWriter(p, session, ctx, headerOnly);
    const error = await new CacheHitSource(session, hit, writer, rangeBody).serve(header, headerOnly);
    await cache
      .finishHitHandler()
      .catch((e: unknown) => this.warn(session, ctx, 'finishing a cache hit failed', e));
    return error ?? 'served';
  }

  /**
   * Stale-if-error: the upstream failed with `error` while a stale asset may stand in for it.
   * Resolves with the outcome when the asset was served, `undefined` when it was not.
   */
  async staleIfError(session: Session, ctx: Ctx, error: PingoraError): Promise<ServedOutcome | undefined> {
    const cache = session.cacheIfUsed;
    if (cache === undefined || !cache.canServeStaleError()) return undefined;
    if (session.responseWritten() !== undefined) return undefined;
    if (!serveStale(this.phases, session, ctx, error)) return undefined;
    this.warn(session, ctx, 'upstream failed, serving stale', error);
    cache.releaseWriteLock('UpstreamError');
    return this.serveHit(session, ctx, cache);
  }

  // A purge request: removes the key's asset and answers 200, 404, 405 or 500.
  private async purge(session: Session, ctx: Ctx, cache: HttpCache | undefined): Promise<CacheOutcome> {
    let status: PurgeStatus = 'NoCache';
    if (cache !== undefined && (cache.enabled() || cache.bypassing())) {
      try {
        status = (await cache.purge()) ? 'Found' : 'NotFound';
      } catch (e) {
        this.warn(session, ctx, 'cache purge failed', e);
        status = 'Error';
      }
    }
    let resp: ResponseHeader = purgeResponse(status);
    const f = this.phases.purgeResponseFilter;
    if (f !== null) {
      try {
        const r = f(session, ctx, resp);
        if (isPromise(r)) await r;
      } catch (e) {
        this.warn(session, ctx, 'purgeResponseFilter failed', e);
        resp = purgeResponse('Error');
      }
    }
    session.downstream.writeResponseHeader(resp, true);
    return 'served';
  }
}
