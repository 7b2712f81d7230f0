/**
 * A route's `cache` settings as the cache phases of the proxy: which requests use the cache,
 * their key, which responses are stored and for how long, purging, and `x-cache-status`.
 */
import {
  CacheControl,
  CacheKey,
  CacheMetaDefaults,
  NoCacheReason,
  RespCacheable,
  respCacheable,
  varyHeaderNames,
} from '@pingora-ts/cache';
import { ErrorSource, type PingoraError } from '@pingora-ts/error';
import type { ResponseHeader } from '@pingora-ts/http';
import type { Session } from '@pingora-ts/proxy';
import type { GatewayCtx, RouteCache } from '../runtime/contracts.js';
import { compileRequestKey, type KeyReader } from '../runtime/request-key.js';
import { type RouteCacheConfig, routeCache as routeCacheSchema } from '../schema/index.js';
import type { CacheStores } from './storages.js';

/**
 * Statuses stored for `ttl` when the origin says nothing about freshness: the heuristically
 * cacheable successes and permanent redirects of RFC 9110 §15.1. Errors (404, 410, 501) and
 * temporary redirects are stored only when the origin gives them a lifetime, so a passing
 * failure is not served for a whole TTL.
 */
export const DEFAULT_TTL_STATUSES: ReadonlySet<number> = new Set([200, 203, 204, 300, 301, 308]);

const VARY_NOT_ALLOWED = NoCacheReason.Custom('VaryNotAllowed');
const VARY_STAR = NoCacheReason.Custom('VaryStar');
const SET_COOKIE = NoCacheReason.Custom('SetCookie');

/** A {@link RouteCache} that also says when a stale asset may be served. */
export interface GatewayRouteCache extends RouteCache {
  /**
   * The proxy's `shouldServeStale` for this route: while the asset is refreshed (the cache
   * itself checks that it is inside `stale_while_revalidate`), and instead of an upstream error
   * (inside `stale_if_error`). Without it the proxy serves stale only on errors, so
   * `stale_while_revalidate` would have no effect.
   */
  shouldServeStale(session: Session, ctx: GatewayCtx, error: PingoraError | undefined): boolean;
}

/** The cache settings a route gets from `cache: true`: the schema's defaults. */
export const ROUTE_CACHE_DEFAULTS: RouteCacheConfig = routeCacheSchema.parse({});

/**
 * Builds the cache phases of one route.
 *
 * - The cache is on for GET and HEAD (and PURGE when `purge` is set; who may send one is
 *   `purge_allow`, checked before this by the route's guards: see `purgeGuard`).
 * - The key is the route name (namespace), then host, path and query, then each `key` value.
 * - A response is stored per RFC 9111 (`respCacheable`): the origin's Cache-Control or Expires
 *   first, else `ttl` for {@link DEFAULT_TTL_STATUSES}; a request with Authorization is stored
 *   only when the origin marks it `public` (or `s-maxage`, `must-revalidate`).
 * - A response whose Vary names a header outside `vary` (when set), or `Vary: *`, is not stored;
 *   neither is one that sets a cookie (as nginx does): the next client would be handed it.
 *
 * @example
 * ```ts
 * const cache = routeCache('static', { ...ROUTE_CACHE_DEFAULTS, ttl: 300_000 }, stores);
 * proxy.requestCacheFilter = (s, ctx) => cache.requestCacheFilter(s, ctx);
 * ```
 */
export function routeCache(
  routeName: string,
  config: RouteCacheConfig,
  stores: CacheStores,
): GatewayRouteCache {
  const set = stores.get(config.storage);
  const lock = config.lock ? set.lock : undefined;
  const predictor = stores.predictor;
  const maxFileSize = config.max_file_size;
  const purge = config.purge;
  const extraKey = compileExtraKey(config.key ?? []);
  const toSec = (ms: number) => Math.ceil(ms / 1000);
  const ttlSec = config.ttl / 1000;
  const defaults = new CacheMetaDefaults(
    (status) => (DEFAULT_TTL_STATUSES.has(status) ? ttlSec : undefined),
    toSec(config.stale_while_revalidate),
    toSec(config.stale_if_error),
  );
  const swr = config.stale_while_revalidate > 0;
  const allowedVary =
    config.vary === undefined ? undefined : new Set(config.vary.map((h) => h.toLowerCase()));

  return {
    requestCacheFilter(session: Session) {
      const method = session.reqHeader().method;
      if (method !== 'GET' && method !== 'HEAD' && !(purge && method === 'PURGE')) return;
      const storage = set.storage();
      // A disk storage still opening: this request goes to the origin uncached.
      if (storage === undefined) return;
      session.cache.enable(storage, undefined, predictor, lock);
      session.cache.setMaxFileSizeBytes(maxFileSize);
    },

    cacheKey(session: Session) {
      const base = CacheKey.default(session.reqHeader());
      if (extraKey === undefined) return new CacheKey(routeName, base.primary);
      return new CacheKey(routeName, Buffer.concat([base.primary, extraKey(session, routeName)]));
    },

    isPurge(session: Session) {
      return purge && session.reqHeader().method === 'PURGE';
    },

    responseCacheFilter(session: Session, resp: ResponseHeader) {
      const vary = varyOutcome(resp, allowedVary);
      if (vary !== undefined) return RespCacheable.uncacheable(vary);
      if (resp.headers.has('set-cookie')) return RespCacheable.uncacheable(SET_COOKIE);
      const auth = session.reqHeader().headers.get('authorization') !== undefined;
      // respCacheable keeps (and edits) the header it is given: the client gets the original.
      const meta = respCacheable(CacheControl.fromHeaders(resp.headers), resp.clone(), auth, defaults);
      return meta === undefined
        ? RespCacheable.uncacheable(NoCacheReason.OriginNotCache)
        : RespCacheable.cacheable(meta);
    },

    shouldServeStale(_session: Session, _ctx: GatewayCtx, error: PingoraError | undefined) {
      return error === undefined ? swr : error.source === ErrorSource.Upstream;
    },

    responseFilter(session: Session, resp: ResponseHeader, _ctx: GatewayCtx) {
      const cache = session.cacheIfUsed;
      if (cache === undefined) return;
      if (cache.phase === 'Disabled' && cache.noCacheReason() === 'NeverEnabled') return;
      resp.insertHeader('x-cache-status', cache.cachePhaseName());
    },
  };
}

/** Why a response's Vary makes it unstorable, or undefined when it does not. */
function varyOutcome(
  resp: ResponseHeader,
  allowed: ReadonlySet<string> | undefined,
): NoCacheReason | undefined {
  if (!resp.headers.has('vary')) return undefined;
  for (const name of varyHeaderNames(resp)) {
    if (name === '*') return VARY_STAR;
    // Storing it would hand one client's variant to another whose request differs in that header.
    if (allowed !== undefined && !allowed.has(name)) return VARY_NOT_ALLOWED;
  }
  return undefined;
}

/**
 * The extra key values as bytes appended to the primary key, each as `0x00 name 0x00 value` so
 * that ("ab", "c") and ("a", "bc") cannot collide; undefined when there are none.
 */
function compileExtraKey(exprs: readonly string[]): ((s: Session, route: string) => Buffer) | undefined {
  if (exprs.length === 0) return undefined;
  const readers: [string, KeyReader][] = exprs.map((e) => [e, compileRequestKey(e)]);
  return (session, route) => {
    let text = '';
    for (const [name, read] of readers) text += `\0${name}\0${read(session, route)}`;
    return Buffer.from(text, 'utf8');
  };
}
