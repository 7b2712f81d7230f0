/**
 * The scrape endpoint: a listening service that answers every request, on any path, with the
 * registry's text exposition. Scrapers poll it every few seconds, so the body is gzipped for
 * clients that accept it, the way Pingora's own metrics service does.
 */
import { HttpServer, ResponseCompressionBuilder, Service, serveHttpApp } from '@pingora-ts/core';
import { type Registry, register } from 'prom-client';

/** Options of {@link prometheusHttpService}. */
export interface PrometheusHttpServiceOptions {
  /** The registry to expose. Default: prom-client's global `register`. */
  registry?: Registry;
  /** The service name in logs. Default `'Prometheus metric HTTP'`. */
  name?: string;
  /** gzip level for clients sending `Accept-Encoding: gzip`. Default 7. */
  gzipLevel?: number;
}

/**
 * A service that serves `registry` in the Prometheus text format on every path (Pingora's
 * `Service::prometheus_http_service`). The response carries the registry's `Content-Type`; it is
 * gzipped when the client accepts gzip and sent with a Content-Length otherwise. Add a listening
 * address and hand it to a `Server`.
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
  const app = serveHttpApp({
    async response() {
      const body = await registry.metrics();
      return { status: 200, headers: { 'Content-Type': registry.contentType }, body };
    },
  });
  app.modules.addModule(ResponseCompressionBuilder.enable(options.gzipLevel ?? 7));
  return new Service(options.name ?? 'Prometheus metric HTTP', new HttpServer(app));
}
