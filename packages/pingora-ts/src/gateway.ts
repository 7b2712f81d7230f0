/**
 * @module pingora-ts/gateway
 *
 * Everything from `@pingora-ts/gateway`: A ready-to-run proxy from one YAML file: listeners, upstream clusters, routes, caching, rate limits and metrics, built on the pingora-ts packages.
 * Generated from members.json by `pnpm gen:meta`; do not edit.
 */
export * from '@pingora-ts/gateway';
