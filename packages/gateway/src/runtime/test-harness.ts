/**
 * Test support (not part of the package's API): a gateway proxy on 127.0.0.1:0 built from a
 * config object, with plain-object clusters over the config's backends and policies without rate
 * limits or caching, so the router and the proxy phases are tested alone on real sockets.
 */
import { HttpPeer, HttpServer, Service, ShutdownController } from '@pingora-ts/core';
import { HttpProxy, type Session } from '@pingora-ts/proxy';
import { type CapturedLog, memoryLogger, startService } from '@pingora-ts/test-utils';
import { compileRoutes } from '../routes/index.js';
import { type GatewayConfigInput, gatewayConfig } from '../schema/index.js';
import type { BuildContext, CompiledRoute, RoutePolicies, UpstreamCluster } from './contracts.js';
import { type GatewayProxyOptions, gatewayProxy } from './proxy.js';

/** A cluster of {@link fakeCluster}, with counts of the leases it gave and got back. */
export interface FakeCluster extends UpstreamCluster {
  leased: number;
  released: number;
}

/** A running test gateway. */
export interface TestGateway {
  port: number;
  routes: CompiledRoute[];
  clusters: Map<string, FakeCluster>;
  logs: CapturedLog[];
  /** Every request's session, in arrival order (to watch a response's progress). */
  sessions: Session[];
  url(path?: string): string;
}

/** Policies with no rate limit and no cache on any route. */
export const noPolicies: RoutePolicies = {
  rateLimitGuards: () => [],
  routeCache: () => undefined,
  close: async () => undefined,
};

/**
 * A cluster over fixed `host:port` backends: round robin, skipping backends the request tried,
 * recording each choice in `ctx.tried` and leasing it (as least-connections does) until
 * `ctx.release`. `hostHeader` overrides the Host sent upstream.
 */
export function fakeCluster(
  name: string,
  backends: string[],
  retries: number,
  hostHeader?: string,
): FakeCluster {
  let next = 0;
  const cluster: FakeCluster = {
    name,
    retries,
    background: undefined,
    leased: 0,
    released: 0,
    select(_session, ctx) {
      if (backends.length === 0) return undefined;
      let addr = backends[next++ % backends.length]!;
      for (let i = 0; i < backends.length && ctx.tried.includes(addr); i++) {
        addr = backends[next++ % backends.length]!;
      }
      ctx.tried.push(addr);
      cluster.leased++;
      // Like a least-connections cluster: a retry gives back the lease on the failed backend.
      ctx.release?.();
      ctx.release = () => cluster.released++;
      return new HttpPeer(addr, false, '');
    },
    upstreamRequest:
      hostHeader === undefined ? undefined : (_session, req) => req.insertHeader('Host', hostHeader),
  };
  return cluster;
}

/** Starts a gateway for `input` (validated as a file would be); `listen` defaults to 127.0.0.1:0. */
export async function startGateway(
  input: GatewayConfigInput,
  options: { baseDir?: string; listen?: string; policies?: RoutePolicies } & GatewayProxyOptions = {},
): Promise<TestGateway> {
  const config = gatewayConfig.parse(input);
  const logger = memoryLogger();
  const ctx: BuildContext = { baseDir: options.baseDir ?? process.cwd(), logger };
  const clusters = new Map<string, FakeCluster>();
  for (const [name, u] of Object.entries(config.upstreams)) {
    const addrs = (u.backends ?? []).map((b) => (typeof b === 'string' ? b : b.address));
    clusters.set(name, fakeCluster(name, addrs, u.retries, u.host_header));
  }
  const routes = compileRoutes(config, { clusters, policies: options.policies ?? noPolicies, ctx });
  const inner = gatewayProxy(routes, { logging: options.logging });
  const sessions: Session[] = [];
  const requestFilter = inner.requestFilter!;
  inner.requestFilter = (session, c) => {
    sessions.push(session);
    return requestFilter(session, c);
  };
  const proxy = new HttpProxy(inner, { logger });
  const service = new Service('gateway test', new HttpServer(proxy), { logger });
  service.addTcp(options.listen ?? '127.0.0.1:0');
  const port = await startService(service, new ShutdownController());
  return {
    port,
    routes,
    clusters,
    logs: logger.lines,
    sessions,
    url: (path = '/') => `http://127.0.0.1:${port}${path}`,
  };
}
