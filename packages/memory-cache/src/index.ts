/**
 * @module @pingora-ts/memory-cache
 *
 * Pingora's in-memory caches. {@link MemoryCache} is a TTL cache on TinyUFO (S3-FIFO eviction,
 * TinyLFU admission), so hot keys survive scans that would flush an LRU. {@link RTCache} puts a
 * lookup behind it: a miss fetches and stores the value, and concurrent misses on one key share a
 * single lookup (the waiters get `lock_hit`), which keeps a thundering herd off a slow origin.
 *
 * @example
 * ```ts
 * import { MemoryCache, RTCache } from '@pingora-ts/memory-cache';
 *
 * const sessions = new MemoryCache<string, object>(10_000);
 * sessions.put('token', { user: 1 }, 30_000);
 * const [session, status] = sessions.get('token'); // status.asStr() === 'hit'
 *
 * const dns = new RTCache<string, string[]>(1_000, {
 *   lookup: async (host) => ({ value: await resolve4(host), ttl: 60_000 }),
 * });
 * const [addrs] = await dns.get('example.org');
 * ```
 */
export { CacheStatus } from './cache-status.js';
export type { CacheStatusKind } from './cache-status.js';
export { MemoryCache } from './memory-cache.js';
export type { CacheResult, MemoryCacheOptions } from './memory-cache.js';
export { coarseClock, monotonicClock } from './clock.js';
export type { Clock } from './clock.js';
export { RTCache } from './read-through.js';
export type { Lookup, LookupResult, MultiLookup, RTCacheOptions, RTResult } from './read-through.js';
