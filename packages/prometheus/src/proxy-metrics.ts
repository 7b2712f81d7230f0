/**
 * Default metrics for an HTTP proxy, named after OpenTelemetry's HTTP semantic conventions in
 * their Prometheus spelling (dots become underscores, durations in seconds). Everything comes from
 * `accessLogRecord`, so observing a request costs a record the proxy builds from counters it keeps
 * anyway plus a few map lookups in prom-client.
 */
import { type AccessLogRecord, accessLogRecord, type ProxyHttp, type Session } from '@pingora-ts/proxy';
import { Counter, Histogram, type Registry, register } from 'prom-client';
import { OTEL_DURATION_BUCKETS } from './buckets.js';

/** The error the `logging` phase receives. */
export type LoggingError = Parameters<NonNullable<ProxyHttp['logging']>>[1];

/** Options of {@link ProxyMetrics}. */
export interface ProxyMetricsOptions {
  /** Where the metrics live. Default: prom-client's global `register`. */
  registry?: Registry;
  /** Histogram buckets in seconds. Default {@link OTEL_DURATION_BUCKETS}. */
  buckets?: readonly number[];
}

const REQUEST_LABELS = [
  'http_request_method',
  'http_response_status_code',
  'network_protocol_version',
] as const;
const TOTAL_LABELS = [
  'http_request_method',
  'http_response_status_class',
  'network_protocol_version',
] as const;

// A second ProxyMetrics on the same registry shares the first one's series instead of failing on
// the duplicate name, so two proxies in one process can both turn metrics on.
function counter<T extends string>(
  registry: Registry,
  name: string,
  help: string,
  labels: readonly T[],
): Counter<T> {
  const found = registry.getSingleMetric(name);
  if (found instanceof Counter) return found as Counter<T>;
  return new Counter<T>({ name, help, labelNames: labels, registers: [registry] });
}

function histogram<T extends string>(
  registry: Registry,
  name: string,
  help: string,
  labels: readonly T[],
  buckets: readonly number[],
): Histogram<T> {
  const found = registry.getSingleMetric(name);
  if (found instanceof Histogram) return found as Histogram<T>;
  return new Histogram<T>({ name, help, labelNames: labels, buckets: [...buckets], registers: [registry] });
}

/** `200` → `2xx`; a request that got no status at all (0) is `none`. */
function statusClass(status: number): string {
  return status >= 100 && status <= 999 ? `${Math.floor(status / 100)}xx` : 'none';
}

/**
 * The default proxy metrics on one registry:
 *
 * - `http_server_request_duration_seconds` histogram by `http_request_method`,
 *   `http_response_status_code`, `network_protocol_version`
 * - `http_server_requests_total` counter by method, `http_response_status_class` (`2xx`…), protocol
 * - `pingora_upstream_connect_duration_seconds` histogram (new connections only)
 * - `pingora_upstream_first_byte_duration_seconds` histogram
 * - `pingora_upstream_connections_reused_total` and `pingora_upstream_connections_new_total`
 * - `pingora_retries_total`
 * - `pingora_cache_requests_total` by `cache_status` (requests that used the cache only)
 *
 * Creating a second instance on the same registry reuses the metrics already there.
 *
 * @example
 * ```ts
 * const metrics = new ProxyMetrics();
 * const proxy: ProxyHttp = {
 *   upstreamPeer: () => new HttpPeer('127.0.0.1:3000', false, ''),
 *   logging(session, error) {
 *     metrics.observe(session, error);
 *   },
 * };
 * ```
 */
export class ProxyMetrics {
  /** The registry the metrics are registered on. */
  readonly registry: Registry;
  /** `http_server_request_duration_seconds`. */
  readonly requestDuration: Histogram<(typeof REQUEST_LABELS)[number]>;
  /** `http_server_requests_total`. */
  readonly requests: Counter<(typeof TOTAL_LABELS)[number]>;
  /** `pingora_upstream_connect_duration_seconds`. */
  readonly upstreamConnectDuration: Histogram<never>;
  /** `pingora_upstream_first_byte_duration_seconds`. */
  readonly upstreamFirstByteDuration: Histogram<never>;
  /** `pingora_upstream_connections_reused_total`. */
  readonly upstreamConnectionsReused: Counter<never>;
  /** `pingora_upstream_connections_new_total`. */
  readonly upstreamConnectionsNew: Counter<never>;
  /** `pingora_retries_total`. */
  readonly retries: Counter<never>;
  /** `pingora_cache_requests_total`. */
  readonly cacheRequests: Counter<'cache_status'>;

  constructor(options: ProxyMetricsOptions = {}) {
    const r = options.registry ?? register;
    const b = options.buckets ?? OTEL_DURATION_BUCKETS;
    this.registry = r;
    this.requestDuration = histogram(
      r,
      'http_server_request_duration_seconds',
      'Duration of HTTP server requests.',
      REQUEST_LABELS,
      b,
    );
    this.requests = counter(
      r,
      'http_server_requests_total',
      'HTTP server requests by status class.',
      TOTAL_LABELS,
    );
    this.upstreamConnectDuration = histogram(
      r,
      'pingora_upstream_connect_duration_seconds',
      'Time to open a new upstream connection, TLS included.',
      [],
      b,
    );
    this.upstreamFirstByteDuration = histogram(
      r,
      'pingora_upstream_first_byte_duration_seconds',
      'Request sent to first upstream response byte.',
      [],
      b,
    );
    this.upstreamConnectionsReused = counter(
      r,
      'pingora_upstream_connections_reused_total',
      'Requests sent on a pooled upstream connection.',
      [],
    );
    this.upstreamConnectionsNew = counter(
      r,
      'pingora_upstream_connections_new_total',
      'Requests that opened a new upstream connection.',
      [],
    );
    this.retries = counter(r, 'pingora_retries_total', 'Upstream attempts after the first.', []);
    this.cacheRequests = counter(
      r,
      'pingora_cache_requests_total',
      'Requests that used the cache, by what it did.',
      ['cache_status'],
    );
  }

  /**
   * Records the request of `session`; call it from the `logging` phase with the error it got.
   * Returns the record it read, for an access log line without building it twice.
   */
  observe(session: Session, error?: LoggingError): AccessLogRecord {
    const record = accessLogRecord(session, error);
    this.observeRecord(record, session.reqHeader().version);
    return record;
  }

  /** Records an already built access-log record; `protocol` is the client's HTTP version (`1.1`, `2`). */
  observeRecord(r: AccessLogRecord, protocol: string): void {
    const method = r.method;
    this.requestDuration.observe(
      {
        http_request_method: method,
        http_response_status_code: String(r.status),
        network_protocol_version: protocol,
      },
      r.total / 1000,
    );
    this.requests.inc({
      http_request_method: method,
      http_response_status_class: statusClass(r.status),
      network_protocol_version: protocol,
    });
    if (r.upstream !== undefined) {
      if (r.upstreamReused) this.upstreamConnectionsReused.inc();
      else {
        this.upstreamConnectionsNew.inc();
        // A connect that failed has no duration worth comparing with ones that succeeded.
        if (r.upstreamConnect !== undefined && r.upstreamFirstByte !== undefined) {
          this.upstreamConnectDuration.observe((r.upstreamConnect + (r.upstreamTlsHandshake ?? 0)) / 1000);
        }
      }
      if (r.upstreamFirstByte !== undefined)
        this.upstreamFirstByteDuration.observe(r.upstreamFirstByte / 1000);
    }
    if (r.retries > 0) this.retries.inc(r.retries);
    if (r.cache !== undefined) this.cacheRequests.inc({ cache_status: r.cache });
  }
}

/**
 * `inner` with `metrics.observe` added to its `logging` phase; the user's own `logging` still
 * runs, after the metrics are recorded, so a throwing logger cannot lose a sample. Every other
 * phase is `inner`'s own, `this` included.
 *
 * @example
 * ```ts
 * const proxy = new HttpProxy(withProxyMetrics(myProxy, new ProxyMetrics()));
 * ```
 */
export function withProxyMetrics<Ctx>(inner: ProxyHttp<Ctx>, metrics: ProxyMetrics): ProxyHttp<Ctx> {
  const logging: NonNullable<ProxyHttp<Ctx>['logging']> = (session, error, ctx) => {
    metrics.observe(session, error);
    return inner.logging?.(session, error, ctx);
  };
  return new Proxy(inner, {
    get(target, prop, receiver) {
      return prop === 'logging' ? logging : Reflect.get(target, prop, receiver);
    },
    has(target, prop) {
      return prop === 'logging' || Reflect.has(target, prop);
    },
  });
}
