/**
 * Per-route rate limits and caching, built once from the file. Counters are per (route, rule);
 * storages and the Redis connection are made on first use and shared by every route.
 */
import { processGroup } from '@pingora-ts/core';
import type { BuildContext, RoutePolicies } from '../runtime/contracts.js';
import type { GatewayConfig, RouteConfig } from '../schema/index.js';
import { rateLimitGuards } from './rate-limit.js';
import { SharedRedis } from './redis-link.js';
import { type GatewayRouteCache, ROUTE_CACHE_DEFAULTS, routeCache } from './route-cache.js';
import { CacheStores } from './storages.js';

export { DEFAULT_TTL_STATUSES, ROUTE_CACHE_DEFAULTS, routeCache } from './route-cache.js';
export type { GatewayRouteCache } from './route-cache.js';
export { rateLimitGuard, rateLimitGuards } from './rate-limit.js';
export type { RateLimitDeps } from './rate-limit.js';
export { CacheStores } from './storages.js';
export type { CacheStoresOptions, StorageSet } from './storages.js';
export { SharedRedis } from './redis-link.js';

/** {@link RoutePolicies} plus a way to wait until its stores are usable. */
export interface GatewayPolicies extends RoutePolicies {
  /** The route's caching (with `shouldServeStale`), or undefined when `cache` is absent or false. */
  routeCache(route: RouteConfig, routeName: string): GatewayRouteCache | undefined;
  /**
   * Resolves once the stores made so far can serve: the disk storage has opened and the Redis
   * connection is up (or did not come up within a few seconds: requests then fall back). Await
   * it after the routes are compiled and before serving; requests that come earlier simply skip
   * a disk cache that is still opening.
   */
  ready(): Promise<void>;
}

/**
 * The rate limits and caches of every route of `config`.
 *
 * @example
 * ```ts
 * const policies = buildPolicies(config, { baseDir, logger });
 * const guards = policies.rateLimitGuards(config.routes[0], 'api'); // 429 when over
 * const cache = policies.routeCache(config.routes[0], 'api');       // undefined: no cache
 * await policies.ready();
 * // on shutdown
 * await policies.close();
 * ```
 */
export function buildPolicies(config: GatewayConfig, ctx: BuildContext): GatewayPolicies {
  const redis = new SharedRedis(config.redis, ctx.logger);
  // The main process of a server with workers never serves: it opens no disk storage, but keeps
  // the shared eviction state the workers report to.
  const serving = processGroup.role === 'worker' || (config.server.threads ?? 1) <= 1;
  const stores = new CacheStores({
    cache: config.cache,
    baseDir: ctx.baseDir,
    redis,
    logger: ctx.logger,
    serving,
  });
  const deps = { logger: ctx.logger, redis };
  return {
    rateLimitGuards(route: RouteConfig, routeName: string) {
      return rateLimitGuards(routeName, route.rate_limit, deps);
    },
    routeCache(route: RouteConfig, routeName: string) {
      const cache = route.cache;
      if (cache === undefined || cache === false) return undefined;
      return routeCache(routeName, cache === true ? ROUTE_CACHE_DEFAULTS : cache, stores);
    },
    async ready() {
      await Promise.all([stores.ready(), redis.ready()]);
    },
    async close() {
      await stores.close();
      await redis.close();
    },
  };
}
