/**
 * Prometheus for the gateway: the scrape endpoint on `observability.prometheus.address`, request
 * metrics recorded in the proxy's `logging` phase, and gauges read on scrape (open connections,
 * upstream pools, backend health and in-flight requests per cluster).
 */
import type { ServerService } from '@pingora-ts/core';
import {
  type BackendLike,
  type LoadBalancerLike,
  ProxyMetrics,
  prometheusHttpService,
  registerLoadBalancerMetrics,
  registerServiceMetrics,
  type ServiceLike,
} from '@pingora-ts/prometheus';
import type { UpstreamCluster } from '../runtime/contracts.js';

/** Adds `address` (host:port, `unix:/path` or an absolute socket path) to a listening service. */
export function listenOn(
  service: { addTcp(a: string): unknown; addUds(p: string): unknown },
  address: string,
) {
  if (address.startsWith('unix:')) service.addUds(address.slice('unix:'.length));
  else if (address.startsWith('/')) service.addUds(address);
  else service.addTcp(address);
}

/**
 * The load balancer behind a cluster, found by shape: a `loadBalancer` property, else a
 * `background` task that is itself a `LoadBalancer` (it runs its own health checks).
 */
export function loadBalancerOf(cluster: UpstreamCluster): LoadBalancerLike<BackendLike> | undefined {
  const candidates = [(cluster as { loadBalancer?: unknown }).loadBalancer, cluster.background];
  for (const c of candidates) {
    const lb = c as Partial<LoadBalancerLike<BackendLike>> | undefined;
    if (typeof lb?.backends === 'function' && typeof lb.inflight?.get === 'function') {
      return lb as LoadBalancerLike<BackendLike>;
    }
  }
  return undefined;
}

/** The metrics of one gateway: made once, registered on prom-client's global registry. */
export class GatewayMetrics {
  /** Request metrics, fed by the proxy's `logging` phase (`withProxyMetrics`). */
  readonly proxy = new ProxyMetrics();
  /** The scrape endpoint (made in every process, so each answers the others' scrapes). */
  readonly service: ServerService;
  readonly #stops: (() => void)[] = [];

  constructor(address: string) {
    const service = prometheusHttpService({ name: 'pingora-ts gateway metrics' });
    listenOn(service, address);
    this.service = service;
  }

  /** Reports the services' connections and pools and each cluster's backends, until {@link close}. */
  register(services: readonly ServiceLike[], clusters: Iterable<UpstreamCluster>): void {
    for (const service of services) this.#stops.push(registerServiceMetrics(service));
    for (const cluster of clusters) {
      const lb = loadBalancerOf(cluster);
      if (lb !== undefined) this.#stops.push(registerLoadBalancerMetrics(lb, { upstream: cluster.name }));
    }
  }

  /** Stops reading the registered services and clusters (their gauges stop reporting them). */
  close(): void {
    for (const stop of this.#stops.splice(0)) stop();
  }
}
