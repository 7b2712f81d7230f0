/**
 * The scrape endpoint: a listening service that answers every request, on any path, with the
 * registry's text exposition. Scrapers poll it every few seconds, so the body is gzipped for
 * clients that accept it, the way Pingora's own metrics service does. With worker processes, a
 * scrape shows the metrics of every process of the server, merged.
 */
import {
  HttpServer,
  type ProcessGroup,
  ResponseCompressionBuilder,
  Service,
  serveHttpApp,
} from '@pingora-ts/core';
import { type Registry, register } from 'prom-client';
import { answerMetrics, gatherMetrics } from './aggregate.js';

/** Options of {@link prometheusHttpService}. */
export interface PrometheusHttpServiceOptions {
  /** The registry to expose. Default: prom-client's global `register`. */
  registry?: Registry;
  /** The service name in logs. Default `'Prometheus metric HTTP'`. */
  name?: string;
  /** gzip level for clients sending `Accept-Encoding: gzip`. Default 7. */
  gzipLevel?: number;
  /**
   * Serve the metrics of every process of the server (main and workers) merged, instead of this
   * process's alone. Default true; in a single-process server both are the same.
   */
  aggregate?: boolean;
  /**
   * How long a scrape waits for the other processes, ms; a process that has not answered by then
   * is left out of that scrape. Default 2 000, well under Prometheus' 10 s scrape timeout.
   */
  gatherTimeoutMs?: number;
  /** The process group to aggregate over. Default: this server's `processGroup`. */
  group?: ProcessGroup;
  /**
   * The gather topic. Every process answers on it with this registry, so two services exposing
   * different registries need different topics. Default `'pingora-ts:prometheus'`.
   */
  topic?: string;
}

/**
 * A service that serves `registry` in the Prometheus text format on every path (Pingora's
 * `Service::prometheus_http_service`). The response carries the registry's `Content-Type`; it is
 * gzipped when the client accepts gzip and sent with a Content-Length otherwise. Add a listening
 * address and hand it to a `Server`.
 *
 * Building it makes this process answer the scrapes of the other processes of the server
 * (build it in every process, as the same program does in the main process and each worker); it
 * stops answering when the service stops.
 *
 * @example
 * ```ts
 * const metrics = prometheusHttpService();
 * metrics.addTcp('127.0.0.1:9091');
 * server.addService(metrics);
 * ```
 */
export function prometheusHttpService(options: PrometheusHttpServiceOptions = {}): Service<HttpServer> {
  const registry = options.registry ?? register;
  const timeoutMs = options.gatherTimeoutMs ?? 2_000;
  if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
    throw new RangeError(`gatherTimeoutMs must be a positive number of ms, got ${timeoutMs}`);
  }
  const group = { group: options.group, topic: options.topic };
  const aggregate = options.aggregate ?? true;
  const stopAnswering = aggregate ? answerMetrics(registry, group) : undefined;
  const app = serveHttpApp({
    async response() {
      const source = aggregate ? await gatherMetrics(registry, timeoutMs, group) : registry;
      const body = await source.metrics();
      return { status: 200, headers: { 'Content-Type': registry.contentType }, body };
    },
  });
  app.modules.addModule(ResponseCompressionBuilder.enable(options.gzipLevel ?? 7));
  const withCleanup = Object.assign(app, { httpCleanup: stopAnswering });
  return new Service(options.name ?? 'Prometheus metric HTTP', new HttpServer(withCleanup));
}
