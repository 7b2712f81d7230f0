/**
 * @module pingora-ts/tinyufo
 *
 * Everything from `@pingora-ts/tinyufo`: TinyUFO for Node.js: S3-FIFO eviction with TinyLFU admission, Pingora's in-memory cache algorithm, with an optional native core.
 * Generated from members.json by `pnpm gen:meta`; do not edit.
 */
export * from '@pingora-ts/tinyufo';
