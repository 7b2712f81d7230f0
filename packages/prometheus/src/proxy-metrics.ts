/**
 * Default metrics for an HTTP proxy, named after OpenTelemetry's HTTP semantic conventions in
 * their Prometheus spelling (dots become underscores, durations in seconds). The numbers are read
 * from the session in the `logging` phase, and recording a request is a few additions on cells
 * resolved once per label set ({@link FastHistogram}); the request counter by status class is
 * derived from the duration histogram's counts when scraped, so it costs nothing per request.
 */
import type { AccessLogRecord, ProxyHttp, Session } from '@pingora-ts/proxy';
import { type Metric, type Registry, register } from 'prom-client';
import { OTEL_DURATION_BUCKETS } from './buckets.js';
import {
  type CounterCell,
  FastCounter,
  FastHistogram,
  type HistogramCell,
  type MetricSnapshot,
  type Sample,
} from './fast-metrics.js';

/** The error the `logging` phase receives. */
export type LoggingError = Parameters<NonNullable<ProxyHttp['logging']>>[1];

/** Options of {@link ProxyMetrics}. */
export interface ProxyMetricsOptions {
  /** Where the metrics live. Default: prom-client's global `register`. */
  registry?: Registry;
  /** Histogram buckets in seconds. Default {@link OTEL_DURATION_BUCKETS}. */
  buckets?: readonly number[];
}

const DURATION = 'http_server_request_duration_seconds';
const METHOD = 'http_request_method';
const STATUS = 'http_response_status_code';
const PROTOCOL = 'network_protocol_version';

// OpenTelemetry's rule: methods outside the known set are reported as `_OTHER`, so a client
// inventing methods cannot grow the label space without bound.
const KNOWN_METHODS = new Set([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'CONNECT',
  'OPTIONS',
  'TRACE',
  'PATCH',
]);

/** `200` → `2xx`; a request that got no status at all (0) is `none`. */
function statusClass(status: string): string {
  return /^[1-9]\d\d$/.test(status) ? `${status[0]}xx` : 'none';
}

/**
 * `http_server_requests_total`: the duration histogram's counts summed by status class, computed
 * when scraped.
 */
export class StatusClassCounter {
  readonly type = 'counter' as const;
  readonly aggregator = 'sum' as const;
  readonly name = 'http_server_requests_total';
  readonly help = 'HTTP server requests by status class.';

  constructor(private readonly duration: FastHistogram) {}

  /** The exposition, prom-client's shape. */
  async get(): Promise<MetricSnapshot> {
    const byClass = new Map<string, Sample>();
    for (const c of this.duration.allCells()) {
      const labels = {
        [METHOD]: c.labels[METHOD]!,
        http_response_status_class: statusClass(c.labels[STATUS]!),
        [PROTOCOL]: c.labels[PROTOCOL]!,
      };
      const key = `${labels[METHOD]} ${labels.http_response_status_class} ${labels[PROTOCOL]}`;
      const s = byClass.get(key);
      if (s === undefined) byClass.set(key, { labels, value: c.count });
      else s.value += c.count;
    }
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values: [...byClass.values()],
    };
  }

  /** Nothing of its own to reset: it follows the histogram. */
  reset(): void {}
}

// A second ProxyMetrics on the same registry shares the first one's series instead of failing on
// the duplicate name, so two proxies in one process can both turn metrics on.
function shared<T extends object>(
  registry: Registry,
  name: string,
  ctor: abstract new (...a: never[]) => T,
  make: () => T,
): T {
  const found = registry.getSingleMetric(name) as unknown;
  if (found instanceof ctor) return found;
  const made = make();
  registry.registerMetric(made as unknown as Metric);
  return made;
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
  readonly requestDuration: FastHistogram;
  /** `http_server_requests_total`, derived from {@link ProxyMetrics.requestDuration}. */
  readonly requests: StatusClassCounter;
  /** `pingora_upstream_connect_duration_seconds`. */
  readonly upstreamConnectDuration: FastHistogram;
  /** `pingora_upstream_first_byte_duration_seconds`. */
  readonly upstreamFirstByteDuration: FastHistogram;
  /** `pingora_upstream_connections_reused_total`. */
  readonly upstreamConnectionsReused: FastCounter;
  /** `pingora_upstream_connections_new_total`. */
  readonly upstreamConnectionsNew: FastCounter;
  /** `pingora_retries_total`. */
  readonly retries: FastCounter;
  /** `pingora_cache_requests_total`. */
  readonly cacheRequests: FastCounter;
  // Cells resolved once: protocol → method → status → cell, and the unlabelled ones.
  readonly #durationCells = new Map<string, Map<string, Map<number, HistogramCell>>>();
  readonly #connectCell: HistogramCell;
  readonly #firstByteCell: HistogramCell;
  readonly #reusedCell: CounterCell;
  readonly #newCell: CounterCell;
  readonly #retriesCell: CounterCell;
  readonly #cacheCells = new Map<string, CounterCell>();

  constructor(options: ProxyMetricsOptions = {}) {
    const r = options.registry ?? register;
    const b = options.buckets ?? OTEL_DURATION_BUCKETS;
    this.registry = r;
    const histogram = (name: string, help: string, labels: readonly string[]) =>
      shared(r, name, FastHistogram, () => new FastHistogram(name, help, labels, b));
    const counter = (name: string, help: string, labels: readonly string[] = []) =>
      shared(r, name, FastCounter, () => new FastCounter(name, help, labels));
    this.requestDuration = histogram(DURATION, 'Duration of HTTP server requests.', [
      METHOD,
      STATUS,
      PROTOCOL,
    ]);
    this.requests = shared(
      r,
      'http_server_requests_total',
      StatusClassCounter,
      () => new StatusClassCounter(this.requestDuration),
    );
    this.upstreamConnectDuration = histogram(
      'pingora_upstream_connect_duration_seconds',
      'Time to open a new upstream connection, TLS included.',
      [],
    );
    this.upstreamFirstByteDuration = histogram(
      'pingora_upstream_first_byte_duration_seconds',
      'Request sent to first upstream response byte.',
      [],
    );
    this.upstreamConnectionsReused = counter(
      'pingora_upstream_connections_reused_total',
      'Requests sent on a pooled upstream connection.',
    );
    this.upstreamConnectionsNew = counter(
      'pingora_upstream_connections_new_total',
      'Requests that opened a new upstream connection.',
    );
    this.retries = counter('pingora_retries_total', 'Upstream attempts after the first.');
    this.cacheRequests = counter(
      'pingora_cache_requests_total',
      'Requests that used the cache, by what it did.',
      ['cache_status'],
    );
    this.#connectCell = this.upstreamConnectDuration.cell();
    this.#firstByteCell = this.upstreamFirstByteDuration.cell();
    this.#reusedCell = this.upstreamConnectionsReused.cell();
    this.#newCell = this.upstreamConnectionsNew.cell();
    this.#retriesCell = this.retries.cell();
  }

  /**
   * Records the request of `session`; call it from the `logging` phase. It reads only the
   * numbers it needs from the session: no client address, path or upstream address is formatted
   * (`error` is accepted for the phase's signature; the status already tells what happened).
   */
  observe(session: Session, _error?: LoggingError): void {
    const req = session.reqHeader();
    const status = session.errorStatus !== 0 ? session.errorStatus : (session.responseWritten()?.status ?? 0);
    const timing = session.timing;
    const end = timing.end > 0 ? timing.end : performance.now();
    this.requestDuration.record(
      this.#durationCell(req.version, req.method, status),
      (end - timing.start) / 1000,
    );
    const t = session.upstreamTiming();
    if (t !== undefined && session.upstreamPeer !== undefined) {
      this.#upstream(t.reused, t.connect, t.tlsHandshake, t.firstByte < 0 ? undefined : t.firstByte);
    }
    if (session.tries > 1) this.#retriesCell.value += session.tries - 1;
    const cache = session.cacheIfUsed;
    // A cache that was never enabled says nothing (the access log's rule).
    if (cache !== undefined && !(cache.phase === 'Disabled' && cache.noCacheReason() === 'NeverEnabled')) {
      this.#cache(cache.cachePhaseName());
    }
  }

  /**
   * Records an already built access-log record (`accessLogRecord` of `@pingora-ts/proxy`), for a
   * `logging` phase that builds one anyway; `protocol` is the client's HTTP version (`1.1`, `2`).
   */
  observeRecord(r: AccessLogRecord, protocol: string): void {
    this.requestDuration.record(this.#durationCell(protocol, r.method, r.status), r.total / 1000);
    if (r.upstream !== undefined) {
      const connect = r.upstreamConnect ?? 0;
      this.#upstream(r.upstreamReused, connect, r.upstreamTlsHandshake ?? 0, r.upstreamFirstByte);
    }
    if (r.retries > 0) this.#retriesCell.value += r.retries;
    if (r.cache !== undefined) this.#cache(r.cache);
  }

  // Times in ms, as the session keeps them.
  #upstream(reused: boolean, connect: number, tls: number, firstByte: number | undefined): void {
    if (reused) this.#reusedCell.value++;
    else {
      this.#newCell.value++;
      // A connect that failed has no duration worth comparing with ones that succeeded.
      if (firstByte !== undefined)
        this.upstreamConnectDuration.record(this.#connectCell, (connect + tls) / 1000);
    }
    if (firstByte !== undefined) this.upstreamFirstByteDuration.record(this.#firstByteCell, firstByte / 1000);
  }

  #cache(status: string): void {
    let c = this.#cacheCells.get(status);
    if (c === undefined) {
      c = this.cacheRequests.cell({ cache_status: status });
      this.#cacheCells.set(status, c);
    }
    c.value++;
  }

  #durationCell(protocol: string, method: string, status: number): HistogramCell {
    let byMethod = this.#durationCells.get(protocol);
    if (byMethod === undefined) {
      byMethod = new Map();
      this.#durationCells.set(protocol, byMethod);
    }
    // Normalised before the lookup, so invented methods share one entry here too.
    const m = KNOWN_METHODS.has(method) ? method : '_OTHER';
    let byStatus = byMethod.get(m);
    if (byStatus === undefined) {
      byStatus = new Map();
      byMethod.set(m, byStatus);
    }
    let cell = byStatus.get(status);
    if (cell === undefined) {
      cell = this.requestDuration.cell({
        [METHOD]: m,
        [STATUS]: String(status),
        [PROTOCOL]: protocol,
      });
      byStatus.set(status, cell);
    }
    return cell;
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
