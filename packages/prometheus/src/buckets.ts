/** Histogram buckets shared by the proxy metrics. */

/**
 * OpenTelemetry's recommended buckets for HTTP durations, in seconds (5 ms to 10 s). Proxies sit
 * in the short end, so the fine steps under 100 ms matter more than prom-client's defaults.
 *
 * @example
 * ```ts
 * new Histogram({ name: 'my_duration_seconds', help: '…', buckets: [...OTEL_DURATION_BUCKETS] });
 * ```
 */
export const OTEL_DURATION_BUCKETS: readonly number[] = Object.freeze([
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
]);
