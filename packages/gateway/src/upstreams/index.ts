/**
 * The `upstreams` section built: one {@link GatewayCluster} per entry, each a `LoadBalancer`
 * with its selection, discovery, health check and connection settings.
 */
import type { BuildContext } from '../runtime/contracts.js';
import type { GatewayConfig } from '../schema/index.js';
import { GatewayCluster } from './cluster.js';
import { keySegment } from './pem-file.js';

export { GatewayCluster } from './cluster.js';
export { ClusterDiscovery, DEFAULT_DNS_REFRESH_MS } from './discovery.js';
export type { NamedBackend } from './discovery.js';
export { DEFAULT_CHECK_INTERVAL_MS, DEFAULT_CHECK_TIMEOUT_MS, healthCheckFromConfig } from './health.js';
export type { HealthCheckTarget } from './health.js';
export { DEFAULT_CONNECT_TIMEOUT_MS, peerTemplate, UPSTREAM_H2_STREAMS } from './peer-template.js';
export type { PeerTemplate } from './peer-template.js';
export { configError, keySegment, readCaFile, readConfigFile, resolveConfigPath } from './pem-file.js';

/**
 * Builds every cluster of `config.upstreams`, by name. Files (CA, client certificate) are read
 * now, relative to `ctx.baseDir`; nothing is resolved or checked until the clusters'
 * `background` services run.
 * @throws Error `"upstreams.<name>.tls.<key>: cannot read <path>: <reason>"` for an unreadable
 *   file, or naming the key for invalid PEM.
 *
 * @example
 * ```ts
 * const clusters = buildClusters(config, { baseDir: dirname(file), logger });
 * for (const c of clusters.values()) {
 *   if (c.background !== undefined) server.addService(backgroundService(`upstream ${c.name}`, c.background));
 * }
 * ```
 */
export function buildClusters(config: GatewayConfig, ctx: BuildContext): Map<string, GatewayCluster> {
  const clusters = new Map<string, GatewayCluster>();
  for (const [name, upstream] of Object.entries(config.upstreams)) {
    clusters.set(name, new GatewayCluster(name, upstream, ctx, `upstreams${keySegment(name)}`));
  }
  return clusters;
}
