/**
 * The first half of the cache state machine (internal): turning the cache on and off, the key,
 * the lookup, what it found, and the cache lock. `HttpCache` adds storing and revalidating.
 */
import type { EvictionManager } from '../eviction/eviction.js';
import type { CacheKey, HashBinary } from '../key.js';
import type { CacheKeyLock } from '../lock/cache-lock.js';
import type { WritePermit } from '../lock/handles.js';
import type { LockStatus, UnlockReason } from '../lock/status.js';
import type { CacheMeta } from '../meta.js';
import type { NoCacheReason } from '../no-cache-reason.js';
import type { CacheablePredictor } from '../predictor.js';
import type { HitHandler, MissHandler, Storage } from '../storage/storage.js';
import { type HitStatus, isTreatedAsMiss } from './hit-status.js';
import { LockCtx, unlockReasonFor } from './lock-ctx.js';
import { contentLength, copyMeta, sameVariance } from './meta-util.js';
import type { CachePhase } from './phase.js';

/** Per-request changes to the cache's settings (Pingora's `CacheOptionOverrides`). */
export interface CacheOptionOverrides {
  /**
   * The longest this request waits, in ms, on other requests' cache lock writers, in total
   * across every wait (a request may wait, look up, and wait again). Unset: as the lock decides.
   */
  waitTimeoutMs?: number;
}

/** The result of a lookup: the stored meta and a handler to read the body. */
export interface CacheLookupResult {
  meta: CacheMeta;
  hit: HitHandler;
}

/** What exists only while the cache is enabled; dropped as a whole when it is disabled. */
export interface Enabled {
  readonly storage: Storage<CacheMeta>;
  readonly eviction: EvictionManager | undefined;
  lockCtx: LockCtx | undefined;
  meta: CacheMeta | undefined;
  /** Assets created before this (ms) are ignored: a purge of the primary slot voids its variants. */
  validAfter: number | undefined;
  hit: HitHandler | undefined;
  miss: MissHandler | undefined;
}

/** Phases in which a found asset is being served. */
export const HIT_PHASES: ReadonlySet<CachePhase> = new Set([
  'Hit',
  'Stale',
  'StaleUpdating',
  'Revalidated',
  'RevalidatedNoCache',
]);
const META_PHASES: ReadonlySet<CachePhase> = new Set([...HIT_PHASES, 'Expired', 'Miss']);

/** Releases a reader nobody reads any more: a failure has nobody to be reported to. */
export function finishQuietly(hit: HitHandler | undefined): void {
  hit?.finish().catch(() => undefined);
}

/** Ends the lock, the write and the read the request holds. */
function releaseHandles(enabled: Enabled, unlock: UnlockReason, why: string): void {
  enabled.lockCtx?.drop(unlock);
  enabled.miss?.abort(new Error(`cache: ${why} before the write finished`));
  finishQuietly(enabled.hit);
  enabled.miss = undefined;
  enabled.hit = undefined;
}

/**
 * Lifecycle, lookup and lock of the cache state machine; use {@link HttpCache}, which extends it.
 * Methods called in a phase they do not belong to throw, naming the phase.
 */
export class HttpCacheCore {
  /** @internal */
  protected cachePhase: CachePhase = 'Disabled';
  /** @internal Why `Disabled` or `RevalidatedNoCache`. */
  protected reason: NoCacheReason | undefined = 'NeverEnabled';
  /** @internal */
  protected ctx: Enabled | undefined = undefined;
  /** @internal */
  protected key: CacheKey | undefined = undefined;
  /** @internal */
  protected predictor: CacheablePredictor | undefined = undefined;
  /** @internal */
  protected maxFileSize: number | undefined = undefined;
  /** @internal Body bytes written by this request's miss, for the max file size. */
  protected bodyBytes = 0;
  #lookupMs: number | undefined = undefined;
  #lockMs: number | undefined = undefined;

  /** The current phase. */
  get phase(): CachePhase {
    return this.cachePhase;
  }

  /** Why the cache is not used: set in `Disabled` and `RevalidatedNoCache`, else `undefined`. */
  noCacheReason(): NoCacheReason | undefined {
    return this.cachePhase === 'Disabled' || this.cachePhase === 'RevalidatedNoCache'
      ? this.reason
      : undefined;
  }

  /**
   * Turns the cache on for this request (`Disabled` → `Uninit`). Without `eviction` nothing this
   * request stores is tracked for eviction by the cache itself (a storage may still evict on its
   * own); without `lock` every miss goes upstream on its own. A cache disabled earlier in the
   * request starts over: its key and max file size are forgotten.
   *
   * Do not give the same eviction manager to `enable` and to a storage that drives it itself, as
   * `MemoryStorage` does: assets would be admitted twice with different weights.
   */
  enable(
    storage: Storage<CacheMeta>,
    eviction?: EvictionManager,
    predictor?: CacheablePredictor,
    lock?: CacheKeyLock,
    overrides?: CacheOptionOverrides,
  ): void {
    if (this.cachePhase !== 'Disabled') throw this.wrongPhase('enable');
    this.ctx = {
      storage,
      // A storage that admits to this manager itself keeps eviction: no asset is admitted twice.
      eviction: eviction !== undefined && eviction === storage.evictionManager ? undefined : eviction,
      lockCtx: lock === undefined ? undefined : new LockCtx(lock, overrides?.waitTimeoutMs),
      meta: undefined,
      validAfter: undefined,
      hit: undefined,
      miss: undefined,
    };
    this.predictor = predictor;
    this.key = undefined;
    this.maxFileSize = undefined;
    this.bodyBytes = 0;
    this.reason = undefined;
    this.cachePhase = 'Uninit';
  }

  /** Whether the cache is in use: neither `Disabled` nor `Bypass`. */
  enabled(): boolean {
    return this.cachePhase !== 'Disabled' && this.cachePhase !== 'Bypass';
  }

  /** Whether this request skips the cache lookup (`Bypass`). */
  bypassing(): boolean {
    return this.cachePhase === 'Bypass';
  }

  /**
   * Skips the lookup for this request (`Uninit`/`CacheKey` → `Bypass`), keeping the cache enabled
   * so a response that turns out cacheable can still be stored (`cacheMiss()` from `Bypass`). A
   * disabled or bypassed cache is left as it is. Later phases are allowed too (Pingora forbids
   * them): the request's lock, hit and miss handlers are released and it continues as `Bypass`.
   */
  bypass(): void {
    const enabled = this.ctx;
    if (enabled === undefined || this.cachePhase === 'Bypass') return;
    if (this.cachePhase !== 'Uninit' && this.cachePhase !== 'CacheKey') {
      releaseHandles(enabled, 'TransientError', 'bypassed');
      enabled.meta = undefined;
    }
    this.cachePhase = 'Bypass';
  }

  /**
   * Stops using the cache for this request, from any phase (→ `Disabled`). A write lock held is
   * released as `reason` calls for (a failure lets a waiting request try, an uncacheable response
   * sends them all upstream), a lock wait is cancelled, a miss write in progress is aborted and its
   * partial asset discarded, and the hit handler is finished. On an already disabled cache only the
   * reason changes, except that a cache never enabled stays `NeverEnabled`.
   */
  disable(reason: NoCacheReason): void {
    if (reason === 'NeverEnabled') throw new TypeError('HttpCache: NeverEnabled is not a reason to disable');
    if (this.cachePhase === 'Disabled') {
      if (this.reason !== 'NeverEnabled') this.reason = reason;
      return;
    }
    const enabled = this.ctx;
    this.cachePhase = 'Disabled';
    this.reason = reason;
    this.ctx = undefined;
    if (enabled !== undefined) releaseHandles(enabled, unlockReasonFor(reason), 'disabled');
  }

  /** Sets the largest response body (bytes) this request will store. Not allowed when `Disabled`. */
  setMaxFileSizeBytes(maxBytes: number): void {
    if (this.cachePhase === 'Disabled') throw this.wrongPhase('setMaxFileSizeBytes');
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) {
      throw new RangeError(`HttpCache: max file size must be a non-negative integer, got ${maxBytes}`);
    }
    this.maxFileSize = maxBytes;
  }

  /** The largest body this request will store, if limited. */
  maxFileSizeBytes(): number | undefined {
    return this.maxFileSize;
  }

  /**
   * Replaces the cache lock (or removes it with `undefined`) before any is taken: in `Uninit`,
   * `CacheKey`, `Hit` or `Stale`, and only while this request holds no lock.
   */
  setCacheLock(lock: CacheKeyLock | undefined, overrides?: CacheOptionOverrides): void {
    const p = this.cachePhase;
    if (p !== 'Uninit' && p !== 'CacheKey' && p !== 'Hit' && p !== 'Stale')
      throw this.wrongPhase('setCacheLock');
    const enabled = this.need('setCacheLock');
    if (enabled.lockCtx?.busy === true) throw new Error('HttpCache: setCacheLock() while a lock is held');
    enabled.lockCtx = lock === undefined ? undefined : new LockCtx(lock, overrides?.waitTimeoutMs);
  }

  /** Sets the key to look up and store under (`Uninit`/`CacheKey` → `CacheKey`). */
  setCacheKey(key: CacheKey): void {
    if (this.cachePhase !== 'Uninit' && this.cachePhase !== 'CacheKey') throw this.wrongPhase('setCacheKey');
    this.key = key;
    this.cachePhase = 'CacheKey';
  }

  /** The cache key; throws when it was never set. */
  cacheKey(): CacheKey {
    if (this.key === undefined) throw new Error(`HttpCache: no cache key is set (phase ${this.cachePhase})`);
    return this.key;
  }

  /** The cache key, if set. */
  maybeCacheKey(): CacheKey | undefined {
    return this.key;
  }

  /**
   * Looks the key up in storage (in `CacheKey`, or again in `Stale` after a lock wait). When
   * nothing is found and a cache lock is set, this request takes the key's lock: the write permit
   * if nobody is fetching it (check {@link isCacheLockWriter}), else a read lock to wait on
   * ({@link isCacheLocked}). Time spent adds up in {@link lookupDuration}. Rejects when the
   * storage fails; Pingora's proxy then carries on as a miss.
   */
  async cacheLookup(): Promise<CacheLookupResult | undefined> {
    if (this.cachePhase !== 'CacheKey' && this.cachePhase !== 'Stale') throw this.wrongPhase('cacheLookup');
    const enabled = this.need('cacheLookup');
    const key = this.cacheKey();
    const start = performance.now();
    let found: CacheLookupResult | undefined;
    try {
      found = await enabled.storage.lookup(key.toCompact());
    } finally {
      this.#lookupMs = (this.#lookupMs ?? 0) + (performance.now() - start);
    }
    if (this.ctx !== enabled) {
      // Disabled while the storage answered (the client went away): nobody will read this.
      finishQuietly(found?.hit);
      return undefined;
    }
    if (found !== undefined && enabled.validAfter !== undefined && found.meta.created < enabled.validAfter) {
      finishQuietly(found.hit);
      found = undefined;
    }
    if (found === undefined) enabled.lockCtx?.acquire(key.combinedHex(), false);
    return found;
  }

  /**
   * Applies the request's variance to the key after a lookup of the primary slot found `meta`,
   * and says whether the caller must look up again: true when `meta` is not the variant this
   * request wants (the key now points at the secondary slot of the right one). Variants created
   * before `meta` are ignored from now on, since purging the primary slot is how all of them are
   * invalidated. When `meta` is the wanted variant of the primary slot the key keeps no variance,
   * so revalidation and storing address the primary slot. `undefined` means the request does not
   * vary: nothing changes and false is returned.
   *
   * This returns the opposite of Pingora's `cache_vary_lookup` (which answers "matches").
   */
  cacheVaryLookup(variance: HashBinary | undefined, meta: CacheMeta): boolean {
    if (this.cachePhase !== 'CacheKey' && this.cachePhase !== 'Stale')
      throw this.wrongPhase('cacheVaryLookup');
    const enabled = this.need('cacheVaryLookup');
    if (variance === undefined) return false;
    const key = this.cacheKey();
    enabled.validAfter = meta.created;
    const initial = key.getVarianceKey() === undefined;
    key.setVarianceKey(variance);
    const matches = sameVariance(meta.variance, variance);
    if (matches && initial) key.removeVarianceKey();
    return !matches;
  }

  /**
   * Records what the lookup found and how to treat it (in `CacheKey`, or `Stale` after a lock
   * wait): `Fresh`/`ForceFresh` → `Hit`; `Expired`/`ForceExpired` → `Stale` (the asset is kept
   * for revalidation, and a force-expired one may not be served stale); `ForceMiss`/
   * `FailedHitFilter` leave the phase as it is and drop the asset: the caller goes on as for a
   * miss. A stale asset or a hit treated as a miss takes the cache lock (a stale one as a stale
   * writer); a fresh hit lets go of any lock this request held, so its readers look up again.
   */
  cacheFound(meta: CacheMeta, hit: HitHandler, status: HitStatus): void {
    if (this.cachePhase !== 'CacheKey' && this.cachePhase !== 'Stale') throw this.wrongPhase('cacheFound');
    const enabled = this.need('cacheFound');
    const key = this.cacheKey();
    if (enabled.hit !== hit) finishQuietly(enabled.hit);
    enabled.hit = undefined;
    enabled.meta = undefined;
    if (isTreatedAsMiss(status)) {
      finishQuietly(hit);
      enabled.lockCtx?.acquire(key.combinedHex(), false);
      return;
    }
    const stale = status === 'Expired' || status === 'ForceExpired';
    if (stale) enabled.lockCtx?.acquire(key.combinedHex(), true);
    else enabled.lockCtx?.drop('Done');
    enabled.meta =
      status === 'ForceExpired' ? copyMeta(meta, { staleWhileRevalidateSec: 0, staleIfErrorSec: 0 }) : meta;
    enabled.hit = hit;
    this.cachePhase = stale ? 'Stale' : 'Hit';
  }

  /**
   * Marks the request a miss (`CacheKey`, `Bypass` or `Stale` → `Miss`): nothing usable was
   * found, or a bypassed request's response turned out cacheable, or a stale asset vanished
   * while this request waited. A write permit held is kept; a read lock not waited on is dropped.
   */
  cacheMiss(): void {
    const p = this.cachePhase;
    if (p !== 'CacheKey' && p !== 'Bypass' && p !== 'Stale') throw this.wrongPhase('cacheMiss');
    const enabled = this.need('cacheMiss');
    this.cacheKey();
    if (enabled.lockCtx?.isReader === true) enabled.lockCtx.cancelWait();
    finishQuietly(enabled.hit);
    enabled.hit = undefined;
    enabled.meta = undefined;
    this.bodyBytes = 0;
    this.cachePhase = 'Miss';
  }

  /** The handler to read the cached body (`Hit`, `Stale`, `StaleUpdating`, `Revalidated*`). */
  hitHandler(): HitHandler {
    const hit = HIT_PHASES.has(this.cachePhase) ? this.ctx?.hit : undefined;
    if (hit === undefined) throw this.wrongPhase('hitHandler');
    return hit;
  }

  /**
   * Finishes reading the cached body and counts the hit with the eviction manager. Does nothing
   * when there is no hit handler (none was found, already finished, or the cache was disabled).
   */
  async finishHitHandler(): Promise<void> {
    const enabled = this.ctx;
    const hit = enabled?.hit;
    if (enabled === undefined || hit === undefined) return;
    enabled.hit = undefined;
    await hit.finish();
    const meta = enabled.meta;
    if (enabled.eviction !== undefined && meta !== undefined && HIT_PHASES.has(this.cachePhase)) {
      enabled.eviction.access(this.cacheKey().toCompact(), contentLength(meta) ?? 0, meta.freshUntil);
    }
  }

  /**
   * The meta of the asset: the one found (`Hit`, `Stale`, …), the one being stored (`Miss`,
   * `Expired`) or the revalidated one. Throws when there is none.
   */
  cacheMeta(): CacheMeta {
    const meta = META_PHASES.has(this.cachePhase) ? this.ctx?.meta : undefined;
    if (meta === undefined) throw this.wrongPhase('cacheMeta');
    return meta;
  }

  /** The meta if there is one, in any phase. */
  maybeCacheMeta(): CacheMeta | undefined {
    return this.ctx?.meta;
  }

  /** Whether this request holds a read lock: another request is fetching the asset. */
  isCacheLocked(): boolean {
    return this.ctx?.lockCtx?.isReader === true;
  }

  /** Whether this request holds the write lock: it fetches the asset for everyone waiting. */
  isCacheLockWriter(): boolean {
    return this.ctx?.lockCtx?.isWriter === true;
  }

  /**
   * Waits for the writer this request's read lock is behind, then says how it ended:
   * `Done`, `Dangling`, `AgeTimeout` (look up again), `TransientError` (this request now holds the
   * write lock: look up again, and fetch if still missing), `GiveUp` (disable with
   * `CacheLockGiveUp` and go upstream), `WaitTimeout` (waited longer than the override's
   * `waitTimeoutMs` in total, or {@link cancelLockWait} was called: disable with
   * `CacheLockTimeout`). Time spent adds up in {@link lockDuration}.
   */
  async cacheLockWait(): Promise<LockStatus> {
    const enabled = this.ctx;
    const lockCtx = enabled?.lockCtx;
    if (lockCtx?.isReader !== true) throw this.wrongPhase('cacheLockWait', 'no read lock');
    const start = performance.now();
    const result = await lockCtx.wait(this.#lockMs ?? 0);
    this.#lockMs = (this.#lockMs ?? 0) + (performance.now() - start);
    if (result.status === 'TransientError') {
      // Elected writer: keep the permit unless the request was disabled meanwhile, in which case
      // the next waiting request must get the chance.
      if (this.ctx === enabled && enabled?.lockCtx === lockCtx) lockCtx.set(result.permit);
      else result.permit.unlock('TransientError');
    }
    return result.status;
  }

  /**
   * Stops this request's wait on the cache lock (the client went away): `cacheLockWait()`
   * resolves with `WaitTimeout` and this request is never elected writer. False when not waiting.
   */
  cancelLockWait(): boolean {
    return this.ctx?.lockCtx?.cancelWait() === true;
  }

  /** How long (ms) this request waited on cache locks in total, if it ever waited. */
  lockDuration(): number | undefined {
    return this.#lockMs;
  }

  /** How long (ms) this request's storage lookups took in total, if it looked up. */
  lookupDuration(): number | undefined {
    return this.#lookupMs;
  }

  /**
   * Releases the write lock, if held, as `reason` calls for, keeping the cache otherwise as it is
   * (to serve a stale asset after the fetch failed, say). Prefer `disable` when giving up.
   */
  releaseWriteLock(reason: NoCacheReason): void {
    this.ctx?.lockCtx?.release(unlockReasonFor(reason));
  }

  /** Takes the write permit out of this request, to hand to a background refresh. */
  takeWriteLock(): WritePermit {
    const lockCtx = this.ctx?.lockCtx;
    if (lockCtx === undefined) throw this.wrongPhase('takeWriteLock', 'no cache lock');
    return lockCtx.take();
  }

  /**
   * Makes `permit` (from {@link takeWriteLock} of another request) this request's write lock.
   * Throws when no cache lock is set, leaving the permit with the caller.
   */
  setWriteLock(permit: WritePermit): void {
    const lockCtx = this.ctx?.lockCtx;
    if (lockCtx === undefined) throw this.wrongPhase('setWriteLock', 'no cache lock');
    lockCtx.set(permit);
  }

  /**
   * Lets go of what the request still holds when it ends without driving the cache to the end (an
   * error, a client gone): a write lock ends `Dangling`, so waiting requests compete for it again
   * (what Pingora does when a permit is dropped unreleased), a lock wait is cancelled, an unfinished
   * write is aborted and the hit handler finished. The phase is kept, for logging.
   *
   * @example
   * ```ts
   * using cache = new HttpCache();
   * cache.enable(storage, undefined, undefined, cacheLock);
   * // ...whatever happens to the request, the lock does not wait for its age timeout
   * ```
   */
  [Symbol.dispose](): void {
    if (this.ctx !== undefined) releaseHandles(this.ctx, 'Dangling', 'request ended');
  }

  /** @internal The enabled state, or a wrong-phase error naming `method`. */
  protected need(method: string): Enabled {
    if (this.ctx === undefined) throw this.wrongPhase(method);
    return this.ctx;
  }

  /** @internal */
  protected wrongPhase(method: string, why?: string): Error {
    const detail = why === undefined ? '' : ` (${why})`;
    return new Error(`HttpCache: ${method}() is not allowed in phase ${this.cachePhase}${detail}`);
  }
}
