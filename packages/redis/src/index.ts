/**
 * @module @pingora-ts/redis
 *
 * Shared state for pingora-ts instances on many machines, in the Redis they already run: a cache
 * `Storage` (a fill through one instance is a hit through all, streamed while it is written), a
 * cache lock across instances (a stampede reaches the origin once) and a distributed rate limiter
 * with `Rate`'s shape. Every Redis call has a deadline; while Redis is unreachable the cache is
 * bypassed, locks are per request and rate limits fall back on the user's choice, the outage and
 * the recovery are logged once, and everything resumes by itself when Redis returns.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { RedisCacheLock, RedisLink, RedisRate, RedisStorage } from '@pingora-ts/redis';
 *
 * const link = new RedisLink(
 *   new Redis({ enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 250 }),
 *   { logger },
 * );
 * const storage = new RedisStorage(link);
 * const lock = new RedisCacheLock(link, { ageTimeoutMs: 10_000, waitTimeoutMs: 5_000 });
 * const perSecond = new RedisRate(link, { intervalMs: 1000 });
 * ```
 */
export { scriptOn } from './client.js';
export type { RedisArg, RedisClient, ScriptDefinition } from './client.js';
export { isUnavailable, RedisLink, RedisUnavailableError } from './link.js';
export type { RedisLinkOptions } from './link.js';
export { defaultTtlMs, RedisStorage } from './storage/redis-storage.js';
export type { RedisStorageOptions } from './storage/redis-storage.js';
export { RedisCacheLock } from './lock/redis-lock.js';
export type { RedisCacheLockOptions } from './lock/redis-lock.js';
export { RedisRate } from './rate/redis-rate.js';
export type { RateFallback, RedisRateOptions } from './rate/redis-rate.js';
