/**
 * @module pingora-ts/error
 *
 * Everything from `@pingora-ts/error`: Pingora's error model for TypeScript: typed errors with source, retry decision and cause chain.
 * Generated from members.json by `pnpm gen:meta`; do not edit.
 */
export * from '@pingora-ts/error';
