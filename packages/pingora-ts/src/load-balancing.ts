/**
 * @module pingora-ts/load-balancing
 *
 * Everything from `@pingora-ts/load-balancing`: Pingora's load balancing for Node.js: backends, static and DNS discovery, TCP/HTTP health checks, round robin, random, FNV, ketama and least-connections selection.
 * Generated from members.json by `pnpm gen:meta`; do not edit.
 */
export * from '@pingora-ts/load-balancing';
