/**
 * Test-only glue: a real proxy service on 127.0.0.1:0 that runs one route's guards, cache phases
 * and logging hook in front of one origin, the way the gateway's own proxy calls them. Also the
 * config and Redis helpers the policy and observability tests share. Not exported by the package.
 */
import { spawn } from 'node:child_process';
import { HttpPeer, type Logger, noopLogger, ShutdownController } from '@pingora-ts/core';
import { httpProxyService, type ProxyHttp } from '@pingora-ts/proxy';
import { freePort, peerInstalled, peersRequired, startService, waitFor } from '@pingora-ts/test-utils';
import { Redis } from 'ioredis';
import type { LoggingHook } from '../observability/access-log.js';
import type { GatewayRouteCache } from './route-cache.js';
import type { CompiledRoute, GatewayCtx, RequestGuard, RouteCache } from '../runtime/contracts.js';
import { type GatewayConfig, gatewayConfig } from '../schema/index.js';

/** What {@link startRouteProxy} runs. */
export interface RouteProxyOptions {
  origin: string;
  routeName?: string;
  guards?: readonly RequestGuard[];
  cache?: RouteCache | undefined;
  logging?: LoggingHook | undefined;
  wrap?: (p: ProxyHttp<GatewayCtx>) => ProxyHttp<GatewayCtx>;
  logger?: Logger;
}

/** The proxy phases of one route, calling its guards, cache and logging hook as the gateway does. */
export function routeProxyHttp(o: RouteProxyOptions): ProxyHttp<GatewayCtx> {
  const route = { name: o.routeName ?? 'r' } as CompiledRoute;
  const guards = o.guards ?? [];
  const cache = o.cache;
  const inner: ProxyHttp<GatewayCtx> = {
    newCtx: () => ({ route: undefined, tried: [], release: undefined }),
    async requestFilter(session, ctx) {
      ctx.route = route;
      for (const guard of guards) if (await guard(session, ctx)) return true;
      return false;
    },
    upstreamPeer: () => new HttpPeer(o.origin, false, ''),
  };
  if (cache !== undefined) {
    inner.requestCacheFilter = (s, ctx) => cache.requestCacheFilter(s, ctx);
    if (cache.cacheKey !== undefined) inner.cacheKeyCallback = (s, ctx) => cache.cacheKey!(s, ctx);
    inner.isPurge = (s, ctx) => cache.isPurge(s, ctx);
    inner.responseCacheFilter = (s, r, ctx) => cache.responseCacheFilter(s, r, ctx);
    inner.responseFilter = (s, r, ctx) => cache.responseFilter?.(s, r, ctx);
    const stale = (cache as Partial<GatewayRouteCache>).shouldServeStale;
    if (stale !== undefined) inner.shouldServeStale = (s, ctx, e) => stale(s, ctx, e);
  }
  if (o.logging !== undefined) inner.logging = o.logging;
  return o.wrap === undefined ? inner : o.wrap(inner);
}

/** Starts the proxy; resolves with its port, its service and a URL maker. */
export async function startRouteProxy(o: RouteProxyOptions) {
  const proxy = routeProxyHttp(o);
  const service = httpProxyService({}, proxy, { logger: o.logger ?? noopLogger, name: 'policy test proxy' });
  service.addTcp('127.0.0.1:0');
  const port = await startService(service, new ShutdownController());
  return { port, service, url: (path = '/') => `http://127.0.0.1:${port}${path}` };
}

/** A validated file with one cluster `app` on `origin` and the given routes. */
export function configWith(origin: string, extra: Record<string, unknown>): GatewayConfig {
  return gatewayConfig.parse({ upstreams: { app: { backends: [origin] } }, ...extra });
}

/**
 * A Redis for the Redis tests: `PINGORA_TS_REDIS_URL`, else a `redis-server` started here on a
 * free port (call `stop` after the suite), else undefined (the caller skips), unless
 * `PINGORA_TS_REQUIRE_PEERS=1`, where a missing Redis is an error.
 */
export async function testRedis(): Promise<{ url: string; stop(): Promise<void> } | undefined> {
  const given = process.env.PINGORA_TS_REDIS_URL;
  if (given) return { url: given, stop: async () => undefined };
  if (!peerInstalled('redis-server')) {
    if (peersRequired()) throw new Error('no Redis: set PINGORA_TS_REDIS_URL or install redis-server');
    return undefined;
  }
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', ''], {
    stdio: 'ignore',
  });
  const stop = () =>
    new Promise<void>((r) => {
      if (child.exitCode !== null || child.signalCode !== null) return r();
      child.once('exit', () => r());
      child.kill('SIGKILL');
    });
  const url = `redis://127.0.0.1:${port}`;
  await waitFor(
    async () => {
      const c = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      c.on('error', () => undefined);
      try {
        await c.connect();
        return (await c.ping()) === 'PONG';
      } catch {
        return false;
      } finally {
        c.disconnect();
      }
    },
    { timeout: 20_000, interval: 50, message: `redis-server on ${port}` },
  );
  return { url, stop };
}

/** Explains a skipped Redis suite once. */
export function warnNoRedis(): void {
  console.warn(
    'skipping the gateway Redis tests: no PINGORA_TS_REDIS_URL and no redis-server (PINGORA_TS_REQUIRE_PEERS=1 fails)',
  );
}
