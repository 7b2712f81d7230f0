/**
 * `HttpCache`: the cache state machine of one request (Pingora's `HttpCache`). The proxy's cache
 * phases drive it from `enable` to a hit, a miss written to storage, or a revalidation; it holds
 * the storage handles and the cache lock for the request and releases them whatever happens.
 * Lifecycle, lookup and lock live in `core.ts`; this file adds storing, revalidating and stale
 * serving.
 */
import { PingoraError } from '@pingora-ts/error';
import type { ResponseHeader } from '@pingora-ts/http';
import type { HashBinary } from '../key.js';
import type { CacheMeta } from '../meta.js';
import type { NoCacheReason } from '../no-cache-reason.js';
import { mergeRevalidation } from '../revalidate.js';
import { ERR_RESPONSE_TOO_LARGE, type HitHandler, type MissHandler } from '../storage/storage.js';
import { finishQuietly, HttpCacheCore } from './core.js';
import { unlockReasonFor } from './lock-ctx.js';
import { contentLength, copyMeta, sameVariance } from './meta-util.js';
import { cachePhaseAsStr, phaseUsedUpstream } from './phase.js';

function isResponseTooLarge(err: unknown): boolean {
  return err instanceof PingoraError && err.rootType().equals(ERR_RESPONSE_TOO_LARGE);
}

/**
 * The cache state of one request. Make one per request (constructing it allocates almost
 * nothing), `enable` it in the request cache filter, then follow the phases. Calling a method in
 * a phase it does not belong to is a programming error and throws, naming the phase; `disable`
 * and `bypass` are allowed in every phase.
 *
 * @example
 * ```ts
 * const cache = new HttpCache();
 * cache.enable(storage, undefined, predictor, cacheLock, { waitTimeoutMs: 5_000 });
 * cache.setCacheKey(CacheKey.default(req));
 * for (;;) {
 *   const found = await cache.cacheLookup();
 *   if (found !== undefined) {
 *     const fresh = found.meta.isFresh(Date.now());
 *     cache.cacheFound(found.meta, found.hit, fresh ? 'Fresh' : 'Expired');
 *     if (fresh) break; // serve cache.hitHandler()
 *   }
 *   if (!cache.isCacheLocked()) { if (found === undefined) cache.cacheMiss(); break; }
 *   const status = await cache.cacheLockWait();
 *   if (status === 'GiveUp') { cache.disable('CacheLockGiveUp'); break; }
 *   if (status === 'WaitTimeout') { cache.disable('CacheLockTimeout'); break; }
 * }
 * // On a miss: cache.setCacheMeta(meta); await cache.setMissHandler();
 * // per chunk: await cache.writeBody(chunk, eof); then await cache.finishMissHandler();
 * ```
 */
export class HttpCache extends HttpCacheCore {
  /**
   * Sets the meta the response will be stored with (`Miss` stays `Miss`, `Stale` → `Expired`).
   * A meta without variance takes the key's, so the asset lands in the slot it was looked up in;
   * call {@link updateVariance} afterwards when the response's own Vary says otherwise.
   */
  setCacheMeta(meta: CacheMeta): void {
    if (this.cachePhase !== 'Miss' && this.cachePhase !== 'Stale') throw this.wrongPhase('setCacheMeta');
    const enabled = this.need('setCacheMeta');
    const variance = this.key?.getVarianceKey();
    if (meta.variance === undefined && variance !== undefined) meta.setVariance(variance);
    finishQuietly(enabled.hit);
    enabled.hit = undefined;
    enabled.meta = meta;
    this.bodyBytes = 0;
    if (this.cachePhase === 'Stale') this.cachePhase = 'Expired';
  }

  /**
   * Sets the variance of the meta being stored (`Miss`, `Expired`) from the response's Vary. When
   * it differs from the variance the key was looked up with, the asset is stored in the primary
   * slot instead, which supersedes every variant there, and the lock taken on the secondary slot
   * is released.
   */
  updateVariance(variance: HashBinary | undefined): void {
    if (this.cachePhase !== 'Miss' && this.cachePhase !== 'Expired') throw this.wrongPhase('updateVariance');
    const enabled = this.need('updateVariance');
    const meta = this.cacheMeta();
    if (variance === undefined) meta.removeVariance();
    else meta.setVariance(variance);
    const key = this.cacheKey();
    const old = key.getVarianceKey();
    if (old !== undefined && !sameVariance(old, variance)) {
      enabled.lockCtx?.release('Done');
      key.removeVarianceKey();
    }
  }

  /**
   * Opens the storage write for the meta set by {@link setCacheMeta} (`Miss`, `Expired`).
   * Resolves false, with the cache disabled as `ResponseTooLarge` and the predictor told, when
   * the response's Content-Length is over the max file size: nothing is stored. When the storage
   * lets readers follow a write in progress, the write lock is released now so waiting requests
   * stream the body as it arrives. A storage failure disables the cache (`StorageError`) and
   * rejects.
   */
  async setMissHandler(): Promise<boolean> {
    if (this.cachePhase !== 'Miss' && this.cachePhase !== 'Expired') throw this.wrongPhase('setMissHandler');
    const enabled = this.need('setMissHandler');
    if (enabled.miss !== undefined)
      throw new Error(`HttpCache: the miss handler is already set (phase ${this.cachePhase})`);
    const meta = this.cacheMeta();
    const length = contentLength(meta);
    if (this.maxFileSize !== undefined && length !== undefined && length > this.maxFileSize) {
      this.responseBecameUncacheable('ResponseTooLarge');
      return false;
    }
    let miss: MissHandler;
    try {
      miss = await enabled.storage.getMissHandler(this.cacheKey().toCompact(), meta);
    } catch (err) {
      this.disable('StorageError');
      throw err;
    }
    if (this.ctx !== enabled) {
      miss.abort(new Error('cache: disabled'));
      return false;
    }
    enabled.miss = miss;
    if (enabled.storage.supportStreamingPartialWrite()) enabled.lockCtx?.release('Done');
    return true;
  }

  /** Whether a storage write is open: set and neither finished nor aborted. */
  missHandlerActive(): boolean {
    return this.ctx?.miss !== undefined;
  }

  /**
   * A reader of the body this request is writing, from the storage (Pingora's miss body reader):
   * a slow client can be served from the cache while the upstream fills it at its own pace.
   * `undefined` when no write is open or the storage cannot read a write in progress.
   */
  async missBodyReader(): Promise<HitHandler | undefined> {
    const enabled = this.ctx;
    if (enabled?.miss === undefined || !enabled.storage.supportStreamingPartialWrite()) return undefined;
    const found = await enabled.storage.lookup(this.cacheKey().toCompact());
    return found?.hit;
  }

  /**
   * Writes a chunk of the response body to storage. Resolves false when the body outgrew the max
   * file size (this request's or the storage's): the write is discarded, the predictor told, the
   * cache disabled as `ResponseTooLarge`, and the response goes on to the client uncached. On a
   * cache already disabled it does nothing and resolves false, so the caller may keep calling it.
   * Another storage failure disables the cache (`StorageError`) and rejects.
   */
  async writeBody(chunk: Uint8Array, eof: boolean): Promise<boolean> {
    if (this.cachePhase === 'Disabled') return false;
    const enabled = this.ctx;
    const miss = enabled?.miss;
    if ((this.cachePhase !== 'Miss' && this.cachePhase !== 'Expired') || miss === undefined) {
      throw this.wrongPhase('writeBody', 'no miss handler');
    }
    this.bodyBytes += chunk.byteLength;
    if (this.maxFileSize !== undefined && this.bodyBytes > this.maxFileSize) {
      this.responseBecameUncacheable('ResponseTooLarge');
      return false;
    }
    try {
      await miss.writeBody(chunk, eof);
    } catch (err) {
      if (this.ctx !== enabled) return false;
      if (isResponseTooLarge(err)) {
        this.responseBecameUncacheable('ResponseTooLarge');
        return false;
      }
      this.disable('StorageError');
      throw err;
    }
    return this.ctx === enabled;
  }

  /**
   * Commits the storage write (`Miss`, `Expired`): the write lock is released (`Done`), the
   * predictor learns the key is cacheable, and the eviction manager admits the asset, whatever it
   * evicts in exchange being purged from storage. Does nothing when there is no write open
   * (already finished, or the cache was disabled meanwhile). A storage failure disables the cache
   * (`StorageError`) and rejects.
   */
  async finishMissHandler(): Promise<void> {
    const enabled = this.ctx;
    if (enabled === undefined || enabled.miss === undefined) return;
    if (this.cachePhase !== 'Miss' && this.cachePhase !== 'Expired')
      throw this.wrongPhase('finishMissHandler');
    const miss = enabled.miss;
    enabled.miss = undefined;
    let size: number;
    try {
      size = await miss.finish();
    } catch (err) {
      this.disable('StorageError');
      throw err;
    }
    enabled.lockCtx?.release('Done');
    const key = this.cacheKey();
    this.predictor?.markCacheable(key.primaryHex());
    const meta = enabled.meta;
    if (enabled.eviction === undefined || meta === undefined) return;
    const evicted = enabled.eviction.admit(key.toCompact(), size, meta.freshUntil);
    for (const victim of evicted) {
      // The asset is stored; one victim failing to go must not fail the request or the others.
      await enabled.storage.purge(victim, 'Eviction').catch(() => false);
    }
  }

  /** Tells the predictor that this key's response is cacheable after all. */
  responseBecameCacheable(): void {
    if (this.key !== undefined) this.predictor?.markCacheable(this.key.primaryHex());
  }

  /**
   * Tells the predictor this key's response is not cacheable, so the next request for it
   * bypasses the cache, and disables the cache with `reason` (any write lock is released as the
   * reason calls for: `GiveUp` for an uncacheable response).
   */
  responseBecameUncacheable(reason: NoCacheReason): void {
    if (this.key !== undefined) this.predictor?.markUncacheable(this.key.primaryHex(), reason);
    this.disable(reason);
  }

  /**
   * Stores the meta of a stale asset the origin confirmed (`Stale` → `Revalidated`): `meta` is
   * the one made from the 304, and keeps the old asset's creation time, extensions it does not
   * override and variance. The write lock is released (`Done`) whether or not the storage update
   * succeeded; resolves to whether the storage still had the asset.
   */
  async revalidateCacheMeta(meta: CacheMeta): Promise<boolean> {
    if (this.cachePhase !== 'Stale') throw this.wrongPhase('revalidateCacheMeta');
    const enabled = this.need('revalidateCacheMeta');
    const old = this.cacheMeta();
    meta.created = old.created;
    meta.extensions = { ...old.extensions, ...meta.extensions };
    if (meta.variance === undefined && old.variance !== undefined) meta.setVariance(old.variance);
    // The hit handler stays: the confirmed body is served from it.
    enabled.meta = meta;
    try {
      return await enabled.storage.updateMeta(this.cacheKey().toCompact(), meta);
    } finally {
      enabled.lockCtx?.release('Done');
      if (this.ctx === enabled) this.cachePhase = 'Revalidated';
    }
  }

  /**
   * The stale asset's response head updated with the fields of the 304 `resp` (`Stale` only; see
   * `mergeRevalidation` for which fields), to make the revalidated meta from. The held meta is
   * not changed.
   */
  revalidateMergeHeader(resp: ResponseHeader): ResponseHeader {
    if (this.cachePhase !== 'Stale') throw this.wrongPhase('revalidateMergeHeader');
    return mergeRevalidation(this.cacheMeta(), resp);
  }

  /**
   * Records that the origin confirmed the stale asset but its new response may not be stored
   * (`Stale` → `RevalidatedNoCache`): the asset is served once more with `header`, and the write
   * lock is released as `reason` calls for, and the predictor learns the key is not cacheable.
   */
  revalidateUncacheable(header: ResponseHeader, reason: NoCacheReason): void {
    if (this.cachePhase !== 'Stale') throw this.wrongPhase('revalidateUncacheable');
    const enabled = this.need('revalidateUncacheable');
    // The origin said the response may no longer be stored: the next request bypasses the cache
    // (an internal failure says nothing about the response).
    if (reason !== 'InternalError' && this.key !== undefined) {
      this.predictor?.markUncacheable(this.key.primaryHex(), reason);
    }
    enabled.meta = copyMeta(this.cacheMeta(), { header });
    enabled.lockCtx?.release(unlockReasonFor(reason));
    this.reason = reason;
    this.cachePhase = 'RevalidatedNoCache';
  }

  /** Serves the stale asset while another request refreshes it (`Stale` → `StaleUpdating`). */
  setStaleUpdating(): void {
    if (this.cachePhase !== 'Stale') throw this.wrongPhase('setStaleUpdating');
    // A reader serving stale does not wait for the refresh.
    if (this.isCacheLocked()) this.ctx?.lockCtx?.cancelWait();
    this.cachePhase = 'StaleUpdating';
  }

  /** Whether a stale asset is held and may be served because the origin failed, at `now` (ms). */
  canServeStaleError(now: number = Date.now()): boolean {
    return this.#hasStaleAsset() && this.cacheMeta().canServeStaleIfError(now);
  }

  /** Whether a stale asset is held and may be served while it is refreshed, at `now` (ms). */
  canServeStaleUpdating(now: number = Date.now()): boolean {
    return this.#hasStaleAsset() && this.cacheMeta().canServeStaleWhileRevalidate(now);
  }

  /**
   * Deletes the key's asset from storage (`Invalidation`) and from the eviction manager. Needs the
   * key and an enabled (or bypassed) cache; resolves to whether something was deleted.
   */
  async purge(): Promise<boolean> {
    const enabled = this.ctx;
    if (enabled === undefined || this.cachePhase === 'Uninit') throw this.wrongPhase('purge');
    const key = this.cacheKey().toCompact();
    const purged = await enabled.storage.purge(key, 'Invalidation');
    if (purged) enabled.eviction?.remove(key);
    return purged;
  }

  /** Whether the predictor expects this key's response to be cacheable (true without one). */
  cacheablePrediction(): boolean {
    const predictor = this.predictor;
    return predictor === undefined || predictor.cacheablePrediction(this.cacheKey().primaryHex());
  }

  /** Whether the storage lets lookups read an asset while it is written; `undefined` when disabled. */
  supportStreamingPartialWrite(): boolean | undefined {
    return this.ctx?.storage.supportStreamingPartialWrite();
  }

  /** Whether the request went to the upstream (every phase but those served from the cache). */
  upstreamUsed(): boolean {
    return phaseUsedUpstream(this.cachePhase);
  }

  /** The phase's lowercase label (`'hit'`, `'miss'`, `'stale-updating'`, …). */
  cachePhaseName(): string {
    return cachePhaseAsStr(this.cachePhase);
  }

  /** Same as {@link cachePhaseName}. */
  override toString(): string {
    return this.cachePhaseName();
  }

  #hasStaleAsset(): boolean {
    return this.cachePhase === 'Stale' || this.cachePhase === 'StaleUpdating';
  }
}
