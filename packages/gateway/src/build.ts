/**
 * Puts the parts together: one `Server` from the `server` section, one proxy service with every
 * listener, the clusters' health checks as background services, and the observability services.
 * Uses only the public API of the other packages, so it doubles as proof that they compose.
 */
import { backgroundService, type Logger, Opt, Server, type ServerService } from '@pingora-ts/core';
import { httpProxyService } from '@pingora-ts/proxy';
import { addListeners, httpServerOptions } from './listeners/index.js';
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

  const service = httpProxyService(server.configuration, proxy, {
    name: 'pingora-ts gateway',
    serverOptions: httpServerOptions(config),
    logger: server.logger,
  });
  addListeners(service, config, ctx);
  const services: ServerService[] = [service];
  for (const cluster of clusters.values()) {
    if (cluster.background !== undefined) {
      services.push(backgroundService(`upstream ${cluster.name}`, cluster.background));
    }
  }
  observability.register(service, clusters);
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
