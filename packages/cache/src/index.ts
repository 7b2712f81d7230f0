/**
 * @module @pingora-ts/cache
 *
 * Pingora's HTTP cache for Node.js (`pingora-cache`): the building blocks the proxy's cache phases
 * will use. Cache keys hashed as Pingora hashes them (BLAKE2b-128), cache metadata with a
 * versioned binary form, RFC 9111 `Cache-Control` parsing and Pingora's cacheability and freshness
 * rules, a byte-bounded in-memory storage whose assets can be read while they are still being
 * written, a disk storage shared by the worker processes of one machine (with a cache lock across
 * them), eviction managers (LRU and TinyUFO) that survive a restart, the cache lock that lets one
 * request fetch a missing asset while the others wait (stampede protection), and the predictor that
 * remembers uncacheable keys.
 *
 * @example
 * ```ts
 * import { CacheControl, CacheKey, CacheMetaDefaults, respCacheable } from '@pingora-ts/cache';
 *
 * const key = CacheKey.default(req);                    // host + path and query
 * const defaults = new CacheMetaDefaults((s) => (s === 200 ? 60 : undefined), 5, 60);
 * const cc = CacheControl.fromHeaders(resp.headers);
 * const meta = respCacheable(cc, resp, false, defaults); // undefined: do not store
 * ```
 */
export {
  CacheKey,
  CompactCacheKey,
  HASH_SIZE,
  hashKey,
  hex2str,
  str2hex,
} from './key.js';
export type { HashBinary } from './key.js';
export { CacheMeta, CacheMetaDefaults } from './meta.js';
export type { CacheMetaInit, FreshSecByStatus } from './meta.js';
export { META_VERSION } from './meta-codec.js';
export { CacheControl, DELTA_SECONDS_OVERFLOW_VALUE, DirectiveValue } from './cache-control.js';
export type { Cacheable, HeaderLookup } from './cache-control.js';
export {
  calculateExpiresHeaderTime,
  calculateFreshUntil,
  calculateServeStaleDurations,
  requestCacheable,
  respCacheable,
  upstreamRequestFilter,
} from './filters.js';
export { formatHttpDate, parseHttpDate } from './http-date.js';
export { CacheLock, LockStatus, ReadLock, WritePermit } from './lock/index.js';
export type { CacheKeyLock, CacheLockOptions, Locked, UnlockReason, WaitResult } from './lock/index.js';
export { Predictor } from './predictor.js';
export type { CacheablePredictor, PredictorOptions } from './predictor.js';
export { NoCacheReason, noCacheReasonAsStr } from './no-cache-reason.js';
export type { BuiltinNoCacheReason, CustomNoCacheReason } from './no-cache-reason.js';
export type {
  HitHandler,
  LookupResult,
  MissHandler,
  PurgeType,
  Storage,
  StorageKey,
} from './storage/storage.js';
export { ERR_RESPONSE_TOO_LARGE } from './storage/storage.js';
export { DEFAULT_META_SIZE, MemoryStorage } from './storage/memory.js';
export type { MemoryStorageOptions } from './storage/memory.js';
export { DISK_FORMAT_VERSION, DiskStorage } from './storage/disk/index.js';
export type { DiskStorageOptions } from './storage/disk/index.js';
export { FileCacheLock } from './lock/file-lock.js';
export type { FileCacheLockOptions } from './lock/file-lock.js';
export type { EvictionEntry, EvictionManager } from './eviction/eviction.js';
export { LruEvictionManager } from './eviction/lru.js';
export { SharedEvictionManager } from './eviction/shared.js';
export type { EvictionGroup, SharedEvictionOptions } from './eviction/shared.js';
export type { LruEvictionOptions } from './eviction/lru.js';
export { TinyUfoEvictionManager } from './eviction/tinyufo.js';
export type { TinyUfoEvictionOptions } from './eviction/tinyufo.js';
export { VarianceBuilder, VARY_UNCACHEABLE, varianceFromVary, varyHeaderNames } from './variance.js';
export type { DisallowedVary, VaryResult } from './variance.js';
export {
  DEFAULT_MAX_MULTIPART_RANGES,
  ifRangeMatches,
  multipartFooter,
  multipartLength,
  multipartPartHeader,
  parseRangeHeader,
  RangeBodyFilter,
  randomBoundary,
  rangeHeaderFilter,
} from './range/index.js';
export type { BoundaryGenerator, ByteRange, MultiRange, RangeType } from './range/index.js';
export { ifNoneMatchMatches, notModifiedFilter, parseEntityTags, toNotModified } from './conditional.js';
export { mergeRevalidation, REVALIDATION_FIELDS, revalidatedMeta } from './revalidate.js';
export type { RevalidateOptions } from './revalidate.js';
export { isPurgeMethod, PURGE_METHOD, purgeResponse, purgeStatusCode } from './purge.js';
export type { PurgeStatus } from './purge.js';
export {
  cachePhaseAsStr,
  HitStatus,
  HttpCache,
  hitStatusAsStr,
  isFresh,
  isTreatedAsMiss,
  phaseUsedUpstream,
  RespCacheable,
} from './http-cache/index.js';
export type { CacheLookupResult, CacheOptionOverrides, CachePhase } from './http-cache/index.js';
export type { ForcedFreshness } from './forced-freshness.js';
