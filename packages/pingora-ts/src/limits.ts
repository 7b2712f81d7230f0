/**
 * @module pingora-ts/limits
 *
 * Everything from `@pingora-ts/limits`: Pingora's rate and inflight limiters for TypeScript: count-min sketch estimator, lazy-rolling windowed rate, inflight guards.
 * Generated from members.json by `pnpm gen:meta`; do not edit.
 */
export * from '@pingora-ts/limits';
