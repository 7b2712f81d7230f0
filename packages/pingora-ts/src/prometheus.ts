/**
 * @module pingora-ts/prometheus
 *
 * Everything from `@pingora-ts/prometheus`: Pingora's Prometheus metrics for Node.js: a scrape endpoint service and default proxy metrics on prom-client.
 * Generated from members.json by `pnpm gen:meta`; do not edit.
 */
export * from '@pingora-ts/prometheus';
