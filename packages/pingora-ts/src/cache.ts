/**
 * @module pingora-ts/cache
 *
 * Everything from `@pingora-ts/cache`: Pingora's HTTP cache for Node.js: cache keys, cache metadata and RFC 9111 freshness, bounded in-memory and on-disk storages with streaming partial writes, eviction (LRU, TinyUFO), the cache lock (in process and across processes) and the uncacheable predictor.
 * Generated from members.json by `pnpm gen:meta`; do not edit.
 */
export * from '@pingora-ts/cache';
