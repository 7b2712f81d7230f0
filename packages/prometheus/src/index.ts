/**
 * Prometheus metrics for pingora-ts (Pingora's `pingora-prometheus`), on prom-client: a service
 * that serves a registry for scraping, and default proxy metrics named after OpenTelemetry's HTTP
 * semantic conventions that a proxy turns on from its `logging` phase.
 */
export { OTEL_DURATION_BUCKETS } from './buckets.js';
export { prometheusHttpService } from './http-service.js';
export type { PrometheusHttpServiceOptions } from './http-service.js';
export { ProxyMetrics, withProxyMetrics } from './proxy-metrics.js';
export type { LoggingError, ProxyMetricsOptions } from './proxy-metrics.js';
