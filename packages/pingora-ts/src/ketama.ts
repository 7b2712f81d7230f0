/**
 * @module pingora-ts/ketama
 *
 * Everything from `@pingora-ts/ketama`: nginx-compatible consistent hashing (hash $key consistent, Pingora's pingora-ketama) with no dependencies and an optional native addon.
 * Generated from members.json by `pnpm gen:meta`; do not edit.
 */
export * from '@pingora-ts/ketama';
