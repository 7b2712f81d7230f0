/**
 * @module pingora-ts/memory-cache
 *
 * Everything from `@pingora-ts/memory-cache`: Pingora's in-memory caches for Node.js: a TTL cache on TinyUFO and a read-through cache that coalesces concurrent lookups.
 * Generated from members.json by `pnpm gen:meta`; do not edit.
 */
export * from '@pingora-ts/memory-cache';
