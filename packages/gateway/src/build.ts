/**
 * Puts the parts together: one `Server` from the `server` section, a proxy service per set of
 * listener settings (one when the listeners agree), the clusters' health checks as background services, and the observability services.
 * Uses only the public API of the other packages, so it doubles as proof that they compose.
 */
import { backgroundService, type Logger, Opt, Server, type ServerService } from '@pingora-ts/core';
import { httpProxyService } from '@pingora-ts/proxy';
import { addListeners, listenerGroups, listenerOf } from './listeners/index.js';
import { serverConfFromGateway } from './load/index.js';
import { buildObservability } from './observability/index.js';
import { buildPolicies } from './policies/index.js';
import { compileRoutes } from './routes/index.js';
import type { BuildContext } from './runtime/contracts.js';
import { gatewayProxy } from './runtime/proxy.js';
import type { GatewayConfig } from './schema/index.js';
import { buildClusters } from './upstreams/index.js';

/** Settings of {@link buildGateway} besides the file itself. */
export interface BuildGatewayOptions {
  /** The file's path: labels errors of the `server` section. */
  file: string;
  /** Where relative paths in the file start (the file's directory). */
  baseDir: string;
  /** Server flags (`-d`, `-u`); default none. */
  opt?: Opt;
  /** Logger of the server and every part; default the server's own (stderr or `error_log`). */
  logger?: Logger;
  /** Passed to `Server` (tests: `exit`, `signals`, `catchUncaught`). */
  serverOptions?: ConstructorParameters<typeof Server>[2];
}

/** A gateway ready to run: call `server.runForever()` (or `server.start()` in tests). */
export interface Gateway {
  readonly server: Server;
  readonly config: GatewayConfig;
  /** Resolves once the shared stores are open (a disk cache, the first Redis connection attempt). */
  ready(): Promise<void>;
  /** Closes what the services do not own (Redis connections, storages, tracing). */
  close(): Promise<void>;
}

/**
 * Builds the server a gateway file describes. Throws an Error naming the key when a part cannot
 * be built (an unreadable certificate, a cache directory that cannot be created).
 *
 * @example
 * ```ts
 * const { config, file, baseDir } = loadGatewayConfig('proxy.yaml');
 * const { server } = buildGateway(config, { file, baseDir });
 * server.bootstrap();
 * await server.runForever();
 * ```
 */
export function buildGateway(config: GatewayConfig, options: BuildGatewayOptions): Gateway {
  const conf = serverConfFromGateway(config, options.file);
  const serverOptions = {
    ...options.serverOptions,
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  };
  const server = new Server(options.opt ?? new Opt(), conf, serverOptions);
  const ctx: BuildContext = { baseDir: options.baseDir, logger: server.logger };

  const clusters = buildClusters(config, ctx);
  const policies = buildPolicies(config, ctx);
  const observability = buildObservability(config, ctx);
  const routes = compileRoutes(config, { clusters, policies, ctx });
  const proxy = observability.wrapProxy(gatewayProxy(routes, { logging: observability.logging }));

  // One proxy service per set of listener settings (usually one): each listener keeps its own
  // timeouts and limits. They share the proxy, its routes and clusters; each has its own pools.
  const groups = listenerGroups(config);
  const proxies = groups.map((group) => {
    const service = httpProxyService(server.configuration, proxy, {
      name:
        groups.length === 1
          ? 'pingora-ts gateway'
          : `pingora-ts gateway ${groupLabel(config, group.listeners)}`,
      serverOptions: group.serverOptions,
      logger: server.logger,
    });
    addListeners(service, config, ctx, group.listeners);
    return service;
  });
  const services: ServerService[] = [...proxies];
  for (const cluster of clusters.values()) {
    if (cluster.background !== undefined) {
      services.push(backgroundService(`upstream ${cluster.name}`, cluster.background));
    }
  }
  observability.register(proxies, clusters);
  services.push(...observability.services());
  server.addServices(services);
  return {
    server,
    config,
    ready: () => policies.ready(),
    close: async () => {
      observability.close();
      await policies.close();
    },
  };
}

// A service's name when there are several: its listeners' addresses.
function groupLabel(config: GatewayConfig, indexes: readonly number[]): string {
  return indexes.map((i) => listenerOf(config.listeners[i]!).address).join(', ');
}
