/**
 * @module pingora-ts/redis
 *
 * Everything from `@pingora-ts/redis`: Redis-backed shared state for pingora-ts: HTTP cache storage, a cache lock across instances and a distributed rate limiter.
 * Generated from members.json by `pnpm gen:meta`; do not edit.
 */
export * from '@pingora-ts/redis';
