/**
 * The `routes` section turned into {@link CompiledRoute}s: each route's match, guards, action and
 * rules compiled once, in file order (the proxy takes the first route that matches).
 */
import type { Session } from '@pingora-ts/proxy';
import type { RequestHeader, ResponseHeader } from '@pingora-ts/http';
import type {
  BuildContext,
  CompiledRoute,
  RequestGuard,
  Responder,
  RoutePolicies,
  UpstreamCluster,
} from '../runtime/contracts.js';
import type { GatewayConfig, RouteConfig } from '../schema/index.js';
import { cidrGuard } from './cidr.js';
import { compileHeaderRules } from './header-rules.js';
import { compileMatch, requestUri } from './match.js';
import { purgeGuard } from './purge-guard.js';
import { redirectResponder, respondResponder } from './responders.js';
import { compileRewrite, rewriteUri } from './rewrite.js';
import { staticResponder } from './static-files.js';

/** The built parts a route refers to. */
export interface RouteParts {
  clusters: Map<string, UpstreamCluster>;
  policies: RoutePolicies;
  ctx: BuildContext;
}

/** Compression level `compression: true` stands for (gzip's default). */
export const DEFAULT_COMPRESSION_LEVEL = 6;

/**
 * Compiles every route of the file, in order. With no routes and exactly one upstream cluster,
 * returns one catch-all route (named `default`) proxying to it. Throws when a route names a
 * cluster that `parts.clusters` does not have.
 *
 * @example
 * ```ts
 * const routes = compileRoutes(config, { clusters, policies, ctx });
 * const proxy = gatewayProxy(routes);
 * ```
 */
export function compileRoutes(config: GatewayConfig, parts: RouteParts): CompiledRoute[] {
  let routes = config.routes;
  let names = routes.map((r, i) => r.name ?? `routes[${i}]`);
  if (routes.length === 0) {
    const clusters = Object.keys(config.upstreams);
    if (clusters.length !== 1) return [];
    routes = [{ match: {}, upstream: clusters[0]! }];
    names = ['default'];
  }
  return routes.map((route, i) => compileRoute(route, names[i]!, i, parts));
}

/** Compiles one route; `index` is its position in the file. */
export function compileRoute(
  route: RouteConfig,
  name: string,
  index: number,
  parts: RouteParts,
): CompiledRoute {
  const guards: RequestGuard[] = [];
  const cidr = cidrGuard(route.allow, route.deny);
  if (cidr !== undefined) guards.push(cidr);
  const purge = route.upstream === undefined ? undefined : purgeGuard(route.cache);
  if (purge !== undefined) guards.push(purge);
  guards.push(...parts.policies.rateLimitGuards(route, name));

  const rewrite = compileRewrite(route.rewrite);
  const requestEdit = compileHeaderRules(route.request_headers);
  const responseEdit = compileHeaderRules(route.response_headers);
  const compression = route.compression;

  const compiled: CompiledRoute = {
    name,
    index,
    matches: compileMatch(route.match),
    guards,
    action: compileAction(route, name, parts),
    cache: route.upstream === undefined ? undefined : parts.policies.routeCache(route, name),
    compressionLevel:
      compression === undefined || compression === false
        ? undefined
        : compression === true
          ? DEFAULT_COMPRESSION_LEVEL
          : compression.level,
  };
  if (rewrite !== undefined || requestEdit !== undefined) {
    compiled.upstreamRequest = (session: Session, req: RequestHeader) => {
      if (rewrite !== undefined) req.setRawPath(rewriteUri(requestUri(session), rewrite));
      requestEdit?.(req);
    };
  }
  if (responseEdit !== undefined) {
    compiled.response = (_session: Session, resp: ResponseHeader) => responseEdit(resp);
  }
  return compiled;
}

function compileAction(route: RouteConfig, name: string, parts: RouteParts): CompiledRoute['action'] {
  if (route.upstream !== undefined) {
    const cluster = parts.clusters.get(route.upstream);
    if (cluster === undefined) throw new Error(`route ${name}: no upstream named "${route.upstream}"`);
    return { kind: 'proxy', cluster };
  }
  let respond: Responder;
  if (route.redirect !== undefined) respond = redirectResponder(route.redirect);
  else if (route.respond !== undefined) respond = respondResponder(route.respond);
  else if (route.static !== undefined) {
    respond = staticResponder(route.static, parts.ctx.baseDir, compileRewrite(route.rewrite));
  } else throw new Error(`route ${name}: needs one action: upstream, redirect, respond or static`);
  return { kind: 'answer', respond };
}
