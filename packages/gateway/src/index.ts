/**
 * @module @pingora-ts/gateway
 *
 * A ready-to-run proxy described by one YAML file, built only from the public API of the other
 * pingora-ts packages: listeners (TCP, Unix, TLS with SNI and mTLS, h2c), upstream clusters
 * (static or DNS backends, round robin / random / FNV / ketama / least connections, health
 * checks, TLS and HTTP/2 upstream), routes (host, path, method and header matches; proxy,
 * redirect, fixed response or static files; header rules, rewrites, CIDR rules, rate limits,
 * caching, compression) and observability (access log, Prometheus, tracing).
 *
 * The `pingora-ts` package's binary runs {@link main}; the same pieces are exported for programs
 * that want to load, check or extend a file themselves.
 *
 * @example
 * ```ts
 * import { buildGateway, loadGatewayConfig } from '@pingora-ts/gateway';
 *
 * const { config, file, baseDir } = loadGatewayConfig('proxy.yaml'); // throws GatewayConfigError
 * const { server } = buildGateway(config, { file, baseDir });
 * server.bootstrap();
 * await server.runForever();
 * ```
 */
export { main, checkFile, DEMO_FILE } from './cli.js';
export type { CliIo } from './cli.js';
export { CLI_USAGE, parseCliArgs } from './cli-args.js';
export type { CliArgs } from './cli-args.js';
export { buildGateway } from './build.js';
export type { BuildGatewayOptions, Gateway } from './build.js';
export { DEMO_ORIGINS, startDemoOrigins } from './demo-origins.js';
export {
  formatPath,
  formatProblem,
  GatewayConfigError,
  loadGatewayConfig,
  serverConfFromGateway,
  suggestName,
  validateGatewayText,
} from './load/index.js';
export type { ConfigProblem, GatewayValidation } from './load/index.js';
export { DEFAULT_LISTENER, gatewayConfig } from './schema/index.js';
export type {
  GatewayConfig,
  GatewayConfigInput,
  HeaderRules,
  Listener,
  RateLimitConfig,
  RouteCacheConfig,
  RouteConfig,
  RouteMatch,
  Upstream,
} from './schema/index.js';
export { GATEWAY_SCHEMA_ID, gatewayJsonSchema } from './schema/json-schema.js';
export { compileRoutes } from './routes/index.js';
export type { RouteParts } from './routes/index.js';
export { gatewayProxy } from './runtime/proxy.js';
export type { GatewayProxyOptions } from './runtime/proxy.js';
export { compileRequestKey } from './runtime/request-key.js';
export type { KeyReader } from './runtime/request-key.js';
export type {
  BuildContext,
  CompiledRoute,
  GatewayCtx,
  RequestGuard,
  Responder,
  RouteCache,
  RoutePolicies,
  UpstreamCluster,
} from './runtime/contracts.js';
export { buildClusters, GatewayCluster } from './upstreams/index.js';
export {
  addListeners,
  type ListenerGroup,
  listenerGroups,
  listenerServerOptions,
} from './listeners/index.js';
export { buildPolicies } from './policies/index.js';
export type { GatewayPolicies } from './policies/index.js';
export { buildObservability } from './observability/index.js';
export type { Observability } from './observability/index.js';
