/**
 * Prometheus metrics for pingora-ts (Pingora's `pingora-prometheus`), on prom-client: a service
 * that serves a registry for scraping, merged across the server's worker processes, default proxy
 * metrics named after OpenTelemetry's HTTP semantic conventions that a proxy turns on from its
 * `logging` phase, and gauges read on scrape (pools, connections, backend health).
 */
export { answerMetrics, DEFAULT_METRICS_TOPIC, gatherMetrics } from './aggregate.js';
export type { GroupMetricsOptions } from './aggregate.js';
export { OTEL_DURATION_BUCKETS } from './buckets.js';
export { prometheusHttpService } from './http-service.js';
export type { PrometheusHttpServiceOptions } from './http-service.js';
export { FastCounter, FastHistogram } from './fast-metrics.js';
export type { CounterCell, HistogramCell, MetricSnapshot, Sample } from './fast-metrics.js';
export { ProxyMetrics, StatusClassCounter, withProxyMetrics } from './proxy-metrics.js';
export type { LoggingError, ProxyMetricsOptions } from './proxy-metrics.js';
export { registerConnectorMetrics, registerServiceMetrics } from './connection-metrics.js';
export type { ConnectionMetricsOptions, ConnectorLike, ServiceLike } from './connection-metrics.js';
export { registerLoadBalancerMetrics } from './load-balancer-metrics.js';
export type { BackendLike, LoadBalancerLike, LoadBalancerMetricsOptions } from './load-balancer-metrics.js';
export { scrapedGauge } from './scraped-gauge.js';
export type { Aggregator, Emit, GaugeSource, ScrapedGauge } from './scraped-gauge.js';
