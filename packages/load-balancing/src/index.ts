/**
 * @module @pingora-ts/load-balancing
 *
 * Pingora's load balancing for Node.js: a {@link LoadBalancer} picks a {@link Backend} for each
 * request with round robin, random, FNV hashing, ketama consistent hashing (nginx-compatible) or
 * least connections, skipping backends that active health checks (TCP or HTTP) found down.
 * Backends come from a static list, from DNS (every A/AAAA record, refreshed on the TTL) or from
 * your own discovery. The health table can be fed from another process, so several workers can
 * share one checker.
 *
 * @example
 * ```ts
 * import { backgroundService, HttpPeer, Server } from '@pingora-ts/core';
 * import { LoadBalancer, RoundRobin, TcpHealthCheck } from '@pingora-ts/load-balancing';
 * import { httpProxyService } from '@pingora-ts/proxy';
 *
 * const server = new Server();
 * server.bootstrap();
 * const upstreams = LoadBalancer.tryFromIter(RoundRobin, ['127.0.0.1:3001', '127.0.0.1:3002']);
 * upstreams.setHealthCheck(TcpHealthCheck.new());
 * upstreams.healthCheckFrequency = 1_000;
 * server.addService(backgroundService('health check', upstreams));
 *
 * const proxy = httpProxyService(server.configuration, {
 *   upstreamPeer: () => new HttpPeer(upstreams.select('', 256)!.address, false, ''),
 * });
 * proxy.addTcp('0.0.0.0:6188');
 * server.addService(proxy);
 * await server.runForever();
 * ```
 */
export { Backend } from './backend.js';
export { Backends } from './backends.js';
export type { BackendsOptions } from './backends.js';
export { Static } from './discovery.js';
export type { Discovered, HostLookup, ServiceDiscovery } from './discovery.js';
export { DnsDiscovery, resolveAllRecords } from './dns-discovery.js';
export type { DnsDiscoveryOptions, DnsLookup, DnsRecord } from './dns-discovery.js';
export { Health } from './health.js';
export type { HealthUpdate } from './health.js';
export { TcpHealthCheck } from './health-check.js';
export type { HealthChangedCallback, HealthCheck } from './health-check.js';
export { HttpHealthCheck } from './http-health-check.js';
export type { ResponseValidator } from './http-health-check.js';
export { InflightCounters } from './inflight.js';
export type { InflightCell, Lease } from './inflight.js';
export { LoadBalancer } from './load-balancer.js';
export type { AcceptFn } from './load-balancer.js';
export type {
  BackendIter,
  BackendSelection,
  BackendSelectionBuilder,
  SelectionContext,
  SelectionKey,
} from './selection/selection.js';
export {
  FnvAlgorithm,
  RandomAlgorithm,
  RoundRobinAlgorithm,
  fnv1a64,
  u64Mod,
} from './selection/algorithms.js';
export type { SelectionAlgorithm, U64 } from './selection/algorithms.js';
export { FNVHash, Random, RoundRobin, Weighted } from './selection/weighted.js';
export { Consistent, Consistent as KetamaHashing } from './selection/consistent.js';
export { LeastConnections } from './selection/least-connections.js';
