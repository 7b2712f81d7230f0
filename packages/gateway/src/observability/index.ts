/**
 * The `observability` section: access log, Prometheus and tracing. What is off registers nothing
 * and adds no work per request: no logging hook, no metrics wrapper, no diagnostics subscriber.
 */
import type { ServerService } from '@pingora-ts/core';
import { instrumentProxy } from '@pingora-ts/opentelemetry';
import { type ServiceLike, withProxyMetrics } from '@pingora-ts/prometheus';
import type { ProxyHttp } from '@pingora-ts/proxy';
import type { BuildContext, UpstreamCluster } from '../runtime/contracts.js';
import type { GatewayConfig } from '../schema/index.js';
import { accessLogFormat, accessLogHook, type LoggingHook } from './access-log.js';
import { GatewayMetrics } from './metrics.js';

export { accessLogFormat, accessLogHook } from './access-log.js';
export type { AccessLogFormat, LoggingHook } from './access-log.js';
export { GatewayMetrics, listenOn, loadBalancerOf } from './metrics.js';

/** What the gateway's builder takes from the `observability` section. */
export interface Observability {
  /**
   * The proxy's `logging` phase for the access log; undefined when `access_log` is false, so the
   * proxy defines no logging phase for it.
   */
  readonly logging: LoggingHook | undefined;
  /** `proxy` with request metrics recorded after its own logging; `proxy` itself without Prometheus. */
  wrapProxy<C>(proxy: ProxyHttp<C>): ProxyHttp<C>;
  /** Services to add to the server: the scrape endpoint, when configured (the same on every call). */
  services(): ServerService[];
  /**
   * Reports the proxy services' connections and pools and each cluster's backends on scrape.
   * Does nothing without Prometheus. `clusters`: a map by name (its values are used) or a list.
   */
  register(
    services: ServiceLike | readonly ServiceLike[],
    clusters: ReadonlyMap<string, UpstreamCluster> | Iterable<UpstreamCluster>,
  ): void;
  /** Stops tracing and the gauges' readers (the scrape service stops with the server). */
  close(): void;
}

/**
 * Builds the access log, metrics and tracing the file asks for. Tracing subscribes to the
 * proxy's diagnostics channels here, process-wide, and spans go to the OpenTelemetry provider
 * registered globally (a no-op until an SDK registers one).
 *
 * @example
 * ```ts
 * const obs = buildObservability(config, { baseDir, logger: server.logger });
 * const proxy = obs.wrapProxy(gatewayProxy(routes, { logging: obs.logging }));
 * const service = httpProxyService(server.configuration, proxy);
 * obs.register(service, clusters);
 * server.addServices([service, ...obs.services()]);
 * ```
 */
export function buildObservability(config: GatewayConfig, ctx: BuildContext): Observability {
  const section = config.observability;
  const format = accessLogFormat(section.access_log);
  const logging = format === undefined ? undefined : accessLogHook(ctx.logger, format);
  const prometheus = section.prometheus;
  const metrics = prometheus === undefined ? undefined : new GatewayMetrics(prometheus.address);
  const stopTracing = section.tracing ? instrumentProxy() : undefined;

  return {
    logging,
    wrapProxy<C>(proxy: ProxyHttp<C>): ProxyHttp<C> {
      return metrics === undefined ? proxy : withProxyMetrics(proxy, metrics.proxy);
    },
    services() {
      return metrics === undefined ? [] : [metrics.service];
    },
    register(services, clusters) {
      if (metrics === undefined) return;
      const list = clusters instanceof Map ? clusters.values() : (clusters as Iterable<UpstreamCluster>);
      metrics.register(Array.isArray(services) ? services : [services as ServiceLike], list);
    },
    close() {
      metrics?.close();
      stopTracing?.();
    },
  };
}
