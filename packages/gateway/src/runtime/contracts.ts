/**
 * The interfaces between the gateway's parts: what the router, the clusters and the per-route
 * policies give each other. Each part is built from its section of a {@link GatewayConfig} by
 * its own module; `buildGateway` puts them together into one `ProxyHttp` and one `Server`.
 */
import type { CacheKey, HashBinary, RespCacheable, CacheMeta } from '@pingora-ts/cache';
import type { BackgroundService, HttpPeer, Logger } from '@pingora-ts/core';
import type { PingoraError } from '@pingora-ts/error';
import type { RequestHeader, ResponseHeader } from '@pingora-ts/http';
import type { Session } from '@pingora-ts/proxy';
import type { RouteConfig } from '../schema/index.js';

/** Per-request state of the gateway proxy. */
export interface GatewayCtx {
  /** The route that matched, set by `requestFilter`; undefined until then (or when none did). */
  route: CompiledRoute | undefined;
  /** Backend addresses this request has tried, so a retry goes elsewhere. */
  tried: string[];
  /** Called once when the request ends (e.g. releases a least-connections lease). */
  release: (() => void) | undefined;
}

/** Runs in `requestFilter`, in order; returns true when it has answered the request itself. */
export type RequestGuard = (session: Session, ctx: GatewayCtx) => boolean | Promise<boolean>;

/** A cluster of backends built from one `upstreams` entry. */
export interface UpstreamCluster {
  readonly name: string;
  /** How many times a failed connection is retried on another backend. */
  readonly retries: number;
  /**
   * The peer for this request: a backend not in `ctx.tried` when there is one, healthy first.
   * Records the chosen address in `ctx.tried`. Undefined when the cluster has no backend at all.
   */
  select(session: Session, ctx: GatewayCtx): HttpPeer | undefined;
  /** Health checking and discovery, to run as a background service (once per server). */
  readonly background: BackgroundService | undefined;
  /** Edits of the upstream request this cluster needs (Host header override). */
  upstreamRequest?(session: Session, req: RequestHeader): void;
}

/** Caching on one route: the cache phases of `ProxyHttp`, bound to the route's settings. */
export interface RouteCache {
  requestCacheFilter(session: Session, ctx: GatewayCtx): void;
  cacheKey?(session: Session, ctx: GatewayCtx): CacheKey;
  isPurge(session: Session, ctx: GatewayCtx): boolean;
  responseCacheFilter(session: Session, resp: ResponseHeader, ctx: GatewayCtx): RespCacheable;
  cacheVaryFilter?(meta: CacheMeta, ctx: GatewayCtx, req: RequestHeader): HashBinary | undefined;
  /**
   * Whether a stale asset may be served: with `error` instead of that failure (stale-if-error),
   * without one while it is refreshed (stale-while-revalidate). Default: only for upstream errors.
   */
  shouldServeStale?(session: Session, ctx: GatewayCtx, error: PingoraError | undefined): boolean;
  /** Adds `x-cache-status` (or nothing). */
  responseFilter?(session: Session, resp: ResponseHeader, ctx: GatewayCtx): void;
}

/** A route's action when it does not proxy: answers the request in `requestFilter`. */
export type Responder = (session: Session, ctx: GatewayCtx) => Promise<void>;

/** One route, ready to serve. */
export interface CompiledRoute {
  /** `name` from the file, else `routes[i]`. */
  readonly name: string;
  readonly index: number;
  /** True when the request fits the route's `match`. */
  matches(session: Session): boolean;
  /** allow/deny, the PURGE check, then rate limits; each may answer (403, 429). */
  readonly guards: readonly RequestGuard[];
  /** Proxy to a cluster, or answer here (redirect, respond, static). */
  readonly action: { kind: 'proxy'; cluster: UpstreamCluster } | { kind: 'answer'; respond: Responder };
  /** Path rewrite and request header rules, applied to the upstream request. */
  upstreamRequest?(session: Session, req: RequestHeader): void;
  /** Response header rules, applied to the response sent to the client. */
  response?(session: Session, resp: ResponseHeader): void;
  readonly cache: RouteCache | undefined;
  /** gzip/brotli/zstd level for the client's response, or undefined for none. */
  readonly compressionLevel: number | undefined;
}

/** What building a part needs besides its section of the file. */
export interface BuildContext {
  /** Directory of the config file: relative paths (static roots, certificates, disk cache) start here. */
  readonly baseDir: string;
  readonly logger: Logger;
}

/** Per-route rate limits and caching, built once from the file (stores are shared by routes). */
export interface RoutePolicies {
  /** The route's rate limits as guards (429 when over). Empty when it has none. */
  rateLimitGuards(route: RouteConfig, routeName: string): RequestGuard[];
  /** The route's caching, or undefined when `cache` is absent or false. */
  routeCache(route: RouteConfig, routeName: string): RouteCache | undefined;
  /** Closes Redis connections and storages. */
  close(): Promise<void>;
}
