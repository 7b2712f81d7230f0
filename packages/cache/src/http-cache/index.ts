/**
 * The per-request cache state machine (Pingora's `HttpCache`) and the types its callers use:
 * phases, hit statuses and the response-cacheable decision.
 */
export { HttpCache } from './http-cache.js';
export type { CacheLookupResult, CacheOptionOverrides } from './core.js';
export { HttpCacheCore } from './core.js';
export { cachePhaseAsStr, phaseUsedUpstream } from './phase.js';
export type { CachePhase } from './phase.js';
export { HitStatus, hitStatusAsStr, isFresh, isTreatedAsMiss } from './hit-status.js';
export { RespCacheable } from './resp-cacheable.js';
