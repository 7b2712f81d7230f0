/**
 * The gateway's `ProxyHttp`: routes a request to the first {@link CompiledRoute} that matches,
 * runs its guards, then answers it (redirect, respond, static) or proxies it to the route's
 * cluster, retrying a refused connection on another backend. Every per-route decision was made
 * when the routes were compiled; this file only dispatches.
 */
import { CacheKey, type HashBinary, RespCacheable, varianceFromVary } from '@pingora-ts/cache';
import { ErrorSource, ErrorType, PingoraError } from '@pingora-ts/error';
import type { MaybePromise, ProxyHttp, Session } from '@pingora-ts/proxy';
import type { CompiledRoute, GatewayCtx, UpstreamCluster } from './contracts.js';

/** Options of {@link gatewayProxy}. */
export interface GatewayProxyOptions {
  /** Runs last for every request (access log, metrics), after the backend lease is released. */
  logging?: (session: Session, error: PingoraError | undefined, ctx: GatewayCtx) => MaybePromise<void>;
}

const NOT_FOUND = 'Not Found\n';

/**
 * Builds the proxy for compiled routes. A request no route matches gets 404; a proxy route whose
 * cluster has no backend gets 503. A failed connection is retried on another backend while the
 * request has tried at most `cluster.retries + 1` backends (the server's `max_retries` caps it
 * too). The cache phases are present only when some route caches.
 *
 * @example
 * ```ts
 * const proxy = gatewayProxy(compileRoutes(config, { clusters, policies, ctx }), {
 *   logging: (session, error) => accessLog(logger, session, error),
 * });
 * const service = httpProxyService(server.configuration, proxy);
 * ```
 */
export function gatewayProxy(
  routes: readonly CompiledRoute[],
  options: GatewayProxyOptions = {},
): ProxyHttp<GatewayCtx> {
  const count = routes.length;
  const userLogging = options.logging;

  const proxy: ProxyHttp<GatewayCtx> = {
    newCtx: () => ({ route: undefined, tried: [], release: undefined }),

    requestFilter(session, ctx) {
      let route: CompiledRoute | undefined;
      for (let i = 0; i < count; i++) {
        if (routes[i]!.matches(session)) {
          route = routes[i];
          break;
        }
      }
      if (route === undefined) {
        session.respondErrorWithBody(404, NOT_FOUND);
        return true;
      }
      ctx.route = route;
      const guards = route.guards;
      // Synchronous guards (CIDR, local rate limits) keep the phase synchronous.
      for (let i = 0; i < guards.length; i++) {
        const r = guards[i]!(session, ctx);
        if (r instanceof Promise) return finishGuards(session, ctx, route, i, r);
        if (r) return true;
      }
      return dispatch(session, ctx, route);
    },

    upstreamPeer(session, ctx) {
      const cluster = clusterOf(ctx);
      // On a retry the cluster gives back its lease on the failed backend itself (ctx.release).
      const peer = cluster.select(session, ctx);
      if (peer === undefined) {
        throw PingoraError.explain(ErrorType.HTTPStatus(503), `upstream "${cluster.name}" has no backend`);
      }
      return peer;
    },

    failToConnect(_session, _peer, ctx, error) {
      const cluster = ctx.route?.action.kind === 'proxy' ? ctx.route.action.cluster : undefined;
      if (cluster !== undefined && ctx.tried.length <= cluster.retries) error.setRetry(true);
      return error;
    },

    upstreamRequestFilter(session, upstreamRequest, ctx) {
      const route = ctx.route!;
      // The cluster's edits (its Host override) first: the route's rules are the more specific.
      clusterOf(ctx).upstreamRequest?.(session, upstreamRequest);
      route.upstreamRequest?.(session, upstreamRequest);
    },

    responseFilter(session, resp, ctx) {
      const route = ctx.route;
      if (route === undefined) return;
      route.response?.(session, resp);
      route.cache?.responseFilter?.(session, resp, ctx);
    },

    logging(session, error, ctx) {
      const release = ctx.release;
      if (release !== undefined) {
        ctx.release = undefined;
        release();
      }
      if (userLogging !== undefined) return userLogging(session, error, ctx);
    },
  };

  if (routes.some((r) => r.cache !== undefined)) addCachePhases(proxy);
  return proxy;
}

// Answers or lets the request go upstream, once every guard has let it through.
function dispatch(session: Session, ctx: GatewayCtx, route: CompiledRoute): MaybePromise<boolean> {
  const level = route.compressionLevel;
  if (level !== undefined) session.downstreamCompression?.adjustLevel(level);
  const action = route.action;
  if (action.kind === 'proxy') return false;
  return action.respond(session, ctx).then(answered);
}

function answered(): boolean {
  return true;
}

async function finishGuards(
  session: Session,
  ctx: GatewayCtx,
  route: CompiledRoute,
  from: number,
  pending: Promise<boolean>,
): Promise<boolean> {
  if (await pending) return true;
  const guards = route.guards;
  for (let i = from + 1; i < guards.length; i++) {
    if (await guards[i]!(session, ctx)) return true;
  }
  return dispatch(session, ctx, route);
}

function clusterOf(ctx: GatewayCtx): UpstreamCluster {
  const action = ctx.route?.action;
  // requestFilter answers every request without a proxy route, so this is a bug if it happens.
  if (action?.kind !== 'proxy') throw PingoraError.explain(ErrorType.InternalError, 'no upstream route');
  return action.cluster;
}

// The cache phases, each handing over to the matched route's cache (none: the cache stays off).
function addCachePhases(proxy: ProxyHttp<GatewayCtx>): void {
  proxy.requestCacheFilter = (session, ctx) => ctx.route?.cache?.requestCacheFilter(session, ctx);
  proxy.cacheKeyCallback = (session, ctx) =>
    ctx.route?.cache?.cacheKey?.(session, ctx) ?? CacheKey.default(session.reqHeader());
  proxy.isPurge = (session, ctx) => ctx.route?.cache?.isPurge(session, ctx) ?? false;
  proxy.shouldServeStale = (session, ctx, error) => {
    const decide = ctx.route?.cache?.shouldServeStale;
    if (decide !== undefined) return decide(session, ctx, error);
    return error !== undefined && error.source === ErrorSource.Upstream;
  };
  proxy.responseCacheFilter = (session, resp, ctx) => {
    const cache = ctx.route?.cache;
    return cache === undefined
      ? RespCacheable.uncacheable('OriginNotCache')
      : cache.responseCacheFilter(session, resp, ctx);
  };
  proxy.cacheVaryFilter = (meta, ctx, req) => {
    const vary = ctx.route?.cache?.cacheVaryFilter;
    if (vary !== undefined) return vary(meta, ctx, req);
    // The proxy's own default, which this phase replaces for routes that keep it; its
    // "uncacheable" marker is understood whichever phase returns it.
    return varianceFromVary(req, meta.header) as HashBinary | undefined;
  };
}
