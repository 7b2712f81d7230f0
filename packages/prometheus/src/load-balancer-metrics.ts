/**
 * Backend gauges of a `LoadBalancer` (from `@pingora-ts/load-balancing`), read on scrape: whether
 * each backend is in rotation and how many requests it has in flight. The load balancer is taken
 * by shape, so this package does not depend on the load-balancing one.
 */
import { type Registry, register } from 'prom-client';
import { scrapedGauge } from './scraped-gauge.js';

/** A backend as the gauges see it: its address is the `backend` label. */
export interface BackendLike {
  readonly addr: string;
}

/** What {@link registerLoadBalancerMetrics} reads: a `LoadBalancer` fits. */
export interface LoadBalancerLike<B extends BackendLike> {
  backends(): {
    getBackends(): readonly B[];
    /** Healthy and enabled. */
    ready(backend: B): boolean;
  };
  readonly inflight: { get(backend: B): number };
}

/** Options of {@link registerLoadBalancerMetrics}. */
export interface LoadBalancerMetricsOptions {
  /** The `upstream` label: which load balancer this is. */
  upstream: string;
  /** Where the gauges live. Default: prom-client's global `register`. */
  registry?: Registry;
}

const LABELS = ['upstream', 'backend'] as const;

/**
 * Reports `lb` on scrape:
 *
 * - `pingora_upstream_backend_healthy{upstream,backend}`: 1 when the backend is ready (healthy
 *   and enabled), 0 when not. Across worker processes the minimum: 1 only when every process
 *   that has this load balancer would send it traffic.
 * - `pingora_upstream_backend_inflight_requests{upstream,backend}`: leases from `lb.acquire`
 *   not yet released, summed over processes.
 *
 * Returns a function that stops reporting `lb`.
 *
 * @example
 * ```ts
 * const lb = LoadBalancer.tryFromIter(RoundRobin, ['10.0.0.1:80', '10.0.0.2:80']);
 * registerLoadBalancerMetrics(lb, { upstream: 'origin' });
 * ```
 */
export function registerLoadBalancerMetrics<B extends BackendLike>(
  lb: LoadBalancerLike<B>,
  options: LoadBalancerMetricsOptions,
): () => void {
  const { upstream } = options;
  if (typeof upstream !== 'string' || upstream === '') {
    throw new TypeError('registerLoadBalancerMetrics: `upstream` must be a non-empty string');
  }
  const registry = options.registry ?? register;
  const healthy = scrapedGauge(
    registry,
    'pingora_upstream_backend_healthy',
    'Whether the backend is in rotation (healthy and enabled): 1 or 0.',
    LABELS,
    'min',
  );
  const inflight = scrapedGauge(
    registry,
    'pingora_upstream_backend_inflight_requests',
    'Requests holding a lease on the backend.',
    LABELS,
    'sum',
  );
  const stopHealthy = healthy.add((emit) => {
    const backends = lb.backends();
    for (const b of backends.getBackends()) emit({ upstream, backend: b.addr }, backends.ready(b) ? 1 : 0);
  });
  const stopInflight = inflight.add((emit) => {
    for (const b of lb.backends().getBackends()) emit({ upstream, backend: b.addr }, lb.inflight.get(b));
  });
  return () => {
    stopHealthy();
    stopInflight();
  };
}
