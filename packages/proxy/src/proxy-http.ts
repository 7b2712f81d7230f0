/**
 * `ProxyHttp<Ctx>`: the user's proxy logic as Pingora's phases, in Pingora's order. Only
 * `upstreamPeer` is required; an absent phase means Pingora's default and costs nothing (phases
 * are looked up once, when the proxy is built). A phase may return a value or a promise; a promise
 * is awaited only when one is returned. Body and trailer filters on the response path are
 * synchronous, as in Pingora, so streaming never waits on user code per chunk.
 */
import type { PingoraError } from '@pingora-ts/error';
import type { RequestHeader, ResponseHeader } from '@pingora-ts/http';
import type {
  CacheKey,
  CacheMeta,
  ForcedFreshness,
  HashBinary,
  HitHandler,
  RangeType,
  RespCacheable,
} from '@pingora-ts/cache';
import type { HttpModules, HttpPeer } from '@pingora-ts/core';
import type { Session } from './session.js';

/** A value or a promise of it. */
export type MaybePromise<T> = T | Promise<T>;

/**
 * What a body filter returns: `undefined` keeps the chunk as it is, a `Buffer` replaces it, `null`
 * drops it. The chunk is `undefined` when only the end of the body is being signalled.
 */
export type BodyFilterResult = Buffer | null | undefined;

/** Information about the upstream connection, given to `connectedToUpstream`. */
export interface UpstreamDigest {
  /** The connection served earlier requests. */
  reused: boolean;
  /**
   * Local and remote address of the upstream socket. For a Unix-socket peer `remoteAddress` is
   * the socket path (ports and the local address are undefined).
   */
  localAddress: string | undefined;
  localPort: number | undefined;
  remoteAddress: string | undefined;
  remotePort: number | undefined;
  /** When the connection was obtained, ms (performance.now()). */
  connectedAt: number;
  /** TLS details when the peer is HTTPS. */
  tls?: { protocol: string | null; alpn: string | false | null; cipher: string | undefined };
}

/** What `failToProxy` reports (Pingora's `FailToProxy`). */
export interface FailToProxy {
  /** The status sent downstream; 0 = none (the client is gone). */
  errorCode: number;
  /** Whether the downstream connection may serve another request. */
  canReuseDownstream: boolean;
}

/**
 * The phases of a proxied request. Implement `upstreamPeer`; add any other phase to change
 * Pingora's default behaviour at that point.
 *
 * @example
 * ```ts
 * const proxy: ProxyHttp<{ tries: number }> = {
 *   newCtx: () => ({ tries: 0 }),
 *   async requestFilter(session) {
 *     if (session.reqHeader().uri.startsWith('/admin')) {
 *       session.respondError(403);
 *       return true; // response sent: skip the upstream
 *     }
 *     return false;
 *   },
 *   upstreamPeer: () => new HttpPeer('127.0.0.1:8080', false, ''),
 *   upstreamRequestFilter(session, upstreamRequest) {
 *     upstreamRequest.insertHeader('Host', 'origin.internal');
 *   },
 * };
 * ```
 */
export interface ProxyHttp<Ctx = unknown> {
  /** Per-request state, made after the request header is read. Default: `undefined`. */
  newCtx?(): Ctx;
  /**
   * Registers the modules every request runs, once, when the proxy is built. Without this phase
   * the proxy registers `ResponseCompressionBuilder.enable(0)` (compression off until a request
   * turns it on with `session.downstreamCompression`), as Pingora does; defining it replaces that
   * default, so add the builder yourself to keep it. Module hooks run around the user's: request
   * header and body filters before the user's, response header, body and trailer filters after.
   *
   * @example
   * ```ts
   * initDownstreamModules(modules) {
   *   modules.addModule(ResponseCompressionBuilder.enable(6));
   *   modules.addModule({ init: () => new AddServerHeader() }); // one instance per request
   * }
   * ```
   */
  initDownstreamModules?(modules: HttpModules): void;
  /** First phase, before any other filter. */
  earlyRequestFilter?(session: Session, ctx: Ctx): MaybePromise<void>;
  /** Inspect or answer the request. Return true when a response was already sent (no upstream). */
  requestFilter?(session: Session, ctx: Ctx): MaybePromise<boolean>;
  /** Return false to answer 502 instead of proxying (unless a response was written). Default true. */
  proxyUpstreamFilter?(session: Session, ctx: Ctx): MaybePromise<boolean>;
  // --- the cache phases (they run after requestFilter; absent ones cost nothing) ---
  /**
   * Turns the cache on for this request: call `session.cache.enable(storage, eviction, predictor,
   * lock)` here (and `session.cache.setMaxFileSizeBytes(n)`). Without this phase the cache is off.
   *
   * @example
   * ```ts
   * requestCacheFilter(session) {
   *   if (session.reqHeader().method === 'GET') session.cache.enable(storage, eviction, predictor, lock);
   * }
   * ```
   */
  requestCacheFilter?(session: Session, ctx: Ctx): MaybePromise<void>;
  /** The cache key of the request. Default: `CacheKey.default(req)` (host, path and query). */
  cacheKeyCallback?(session: Session, ctx: Ctx): CacheKey;
  /** A cache miss is going upstream (this request holds the cache lock, if any). */
  cacheMiss?(session: Session, ctx: Ctx): void;
  /**
   * A cached asset was found: return `'ForceExpired'`, `'ForceMiss'` or `'ForceFresh'` to
   * override its freshness, or `undefined` to keep it. A thrown error counts as a miss.
   */
  cacheHitFilter?(
    session: Session,
    meta: CacheMeta,
    hit: HitHandler,
    isFresh: boolean,
    ctx: Ctx,
  ): MaybePromise<ForcedFreshness | undefined>;
  /**
   * Decides whether the upstream response is stored and for how long. Default: RFC 9111 as
   * Pingora reads it (`respCacheable`), with no heuristic freshness: only responses that say how
   * long they are fresh are stored. Do not modify `resp`; build the meta from it.
   */
  responseCacheFilter?(session: Session, resp: ResponseHeader, ctx: Ctx): RespCacheable;
  /**
   * The variance of the request for a cached `meta` (which variant of the asset it wants).
   * Default: the request's values of the header names in the response's `Vary`.
   */
  cacheVaryFilter?(meta: CacheMeta, ctx: Ctx, req: RequestHeader): HashBinary | undefined;
  /**
   * Whether the client's conditional request is answered 304 from the cached `resp`. Default:
   * If-None-Match, else If-Modified-Since, against the cached ETag and Last-Modified.
   */
  cacheNotModifiedFilter?(session: Session, resp: ResponseHeader, ctx: Ctx): boolean;
  /** Applies the client's Range to the cached `resp` (206/416). Default: single and multipart ranges. */
  rangeHeaderFilter?(session: Session, resp: ResponseHeader, ctx: Ctx): RangeType;
  /**
   * Whether a stale asset may be served: with `error`, instead of that upstream failure
   * (stale-if-error); without, while it is refreshed in the background (stale-while-revalidate).
   * Default: only for upstream errors.
   */
  shouldServeStale?(session: Session, ctx: Ctx, error: PingoraError | undefined): boolean;
  /** Whether this request purges its cache key. Default: never. */
  isPurge?(session: Session, ctx: Ctx): boolean;
  /** Edit the purge response (200, 404, 405 or 500) before it is sent. */
  purgeResponseFilter?(session: Session, ctx: Ctx, resp: ResponseHeader): MaybePromise<void>;
  /** Where to send this request; called again for each retry. */
  upstreamPeer(session: Session, ctx: Ctx): MaybePromise<HttpPeer>;
  /**
   * A connection to `peer` failed; nothing was sent. Return the error, with `setRetry(true)` to try
   * `upstreamPeer` again. Default: the error unchanged (not retried).
   */
  failToConnect?(session: Session, peer: HttpPeer, ctx: Ctx, error: PingoraError): PingoraError;
  /** A connection to `peer` is ready (new or reused). */
  connectedToUpstream?(
    session: Session,
    reused: boolean,
    peer: HttpPeer,
    digest: UpstreamDigest,
    ctx: Ctx,
  ): MaybePromise<void>;
  /** Edit the request sent upstream (a copy of the downstream request, hop-by-hop fields removed). */
  upstreamRequestFilter?(session: Session, upstreamRequest: RequestHeader, ctx: Ctx): MaybePromise<void>;
  /** Each request body chunk on its way upstream; `endOfStream` with the last call. */
  requestBodyFilter?(
    session: Session,
    body: Buffer | undefined,
    endOfStream: boolean,
    ctx: Ctx,
  ): MaybePromise<BodyFilterResult>;
  /** Edit the upstream response header (before any cache; not run on cache hits). */
  upstreamResponseFilter?(session: Session, upstreamResponse: ResponseHeader, ctx: Ctx): MaybePromise<void>;
  /** Edit the response header sent downstream. */
  responseFilter?(session: Session, upstreamResponse: ResponseHeader, ctx: Ctx): MaybePromise<void>;
  /** Each upstream response body chunk (synchronous). */
  upstreamResponseBodyFilter?(
    session: Session,
    body: Buffer | undefined,
    endOfStream: boolean,
    ctx: Ctx,
  ): BodyFilterResult;
  /** Trailer fields from upstream, as a mutable flat raw array (synchronous). */
  upstreamResponseTrailerFilter?(session: Session, rawTrailers: string[], ctx: Ctx): void;
  /** Each response body chunk on its way downstream (synchronous). */
  responseBodyFilter?(
    session: Session,
    body: Buffer | undefined,
    endOfStream: boolean,
    ctx: Ctx,
  ): BodyFilterResult;
  /** Trailer fields on their way downstream; return a Buffer to send it as a last body chunk instead. */
  responseTrailerFilter?(session: Session, rawTrailers: string[], ctx: Ctx): MaybePromise<Buffer | undefined>;
  /**
   * An error after the connection was made. Default: adds `Peer: …` context and decides a
   * `ReusedOnly` retry as (connection reused and request body fit the 64 KiB retry buffer).
   */
  errorWhileProxy?(
    peer: HttpPeer,
    session: Session,
    error: PingoraError,
    ctx: Ctx,
    clientReused: boolean,
  ): PingoraError;
  /** Write the error response. Default: Pingora's mapping (502/504/400/500, or the HTTPStatus code). */
  failToProxy?(session: Session, error: PingoraError, ctx: Ctx): MaybePromise<FailToProxy>;
  /** Return true to skip the error log line for `error`. */
  suppressErrorLog?(session: Session, ctx: Ctx, error: PingoraError): boolean;
  /** The request description used in log lines. Default `"METHOD path, Host: host"`. */
  requestSummary?(session: Session, ctx: Ctx): string;
  /**
   * Runs last for every request, with the final error if any: access logs and metrics.
   * `accessLog(logger, session, error)` writes one line per request with upstream timing.
   */
  logging?(session: Session, error: PingoraError | undefined, ctx: Ctx): MaybePromise<void>;
}
