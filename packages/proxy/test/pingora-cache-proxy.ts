/**
 * The proxy under test of the cache port tests: Pingora's `ExampleProxyCache`, steered by the same
 * request headers, in front of a {@link CacheOrigin}. Each {@link startCacheProxy} gets its own
 * storage, lock, predictor and eviction manager, so tests never see each other's assets.
 *
 * Request headers:
 * - `x-bypass-cache`: the cache stays off. `x-eviction`: the request's asset is admitted to (and
 *   read through) the small eviction manager (8192 bytes). `x-lock`: the cache lock is used.
 *   `x-cache-max-file-size-bytes: n`: largest body stored.
 * - `x-force-miss` (any asset), `x-force-fresh` (an expired one), `x-force-expire` (a fresh one):
 *   override the hit's freshness.
 * - `x-port`: origin port; `x-h2: true`: h2c upstream (to the origin's h2c port unless `x-port`).
 * - `x-set-cache-control`: replaces the upstream response's Cache-Control.
 *   `x-upstream-fake-http10`: the upstream response is treated as HTTP/1.0 without framing
 *   headers. `x-upstream-accept-encoding`: sent upstream as Accept-Encoding.
 * - `x-downstream-compression` / `x-downstream-decompression`: the downstream compression module
 *   compresses (level 6) / decompresses. `x-cache-websocket`: a 101 is stored (fresh 5 s).
 * - Method `PURGE` purges the key.
 *
 * Responses carry `x-cache-status` (hit, miss, stale, stale-updating, expired, revalidated;
 * deferred or no-cache when the cache is off; invalid otherwise), `x-cache-lock-time-ms` when the
 * request waited on the lock (error responses too) and `x-upstream-status` when it went upstream.
 */
import {
  CacheControl,
  CacheKey,
  CacheLock,
  CacheMeta,
  CacheMetaDefaults,
  LruEvictionManager,
  MemoryStorage,
  Predictor,
  RespCacheable,
  respCacheable,
  VarianceBuilder,
} from '@pingora-ts/cache';
import { HttpPeer } from '@pingora-ts/core';
import { ErrorSource } from '@pingora-ts/error';
import { ResponseHeader } from '@pingora-ts/http';
import type { CapturedLog } from '@pingora-ts/test-utils';
import { errorStatus, type HttpProxy, type ProxyHttp, type Session } from '../src/index.js';
import type { CacheOrigin } from './pingora-cache-origin.js';
import { startProxy } from './helpers.js';

/** Per-request state: the status the upstream answered, if it was asked. */
export interface CacheCtx {
  upstreamStatus: number | undefined;
}

/** Settings of {@link startCacheProxy}; the defaults are Pingora's test proxy's. */
export interface CacheProxyOptions {
  /** A lock writer is considered gone after this long (ms). Default 2000. */
  lockAgeTimeoutMs?: number;
  /** The longest a request waits on the lock in total (ms), set per request. Default 2000. */
  lockWaitTimeoutMs?: number;
  /** Freshness (s) of responses that do not say. Default 1. */
  defaultFreshSec?: number;
  /** Default stale-while-revalidate window (s). Default 1. */
  staleWhileRevalidateSec?: number;
  /** Default stale-if-error window (s). Default 1. */
  staleIfErrorSec?: number;
  /** Byte budget of the `x-eviction` manager. Default 8192. */
  evictionMaxBytes?: number;
  /** Uncacheable keys the predictor remembers. Default 5. */
  predictorCapacity?: number;
  /**
   * The only Vary header names varied on (lowercase); `null` varies on every name. Default
   * `['accept', 'accept-encoding']`.
   */
  varyAllowedHeaders?: readonly string[] | null;
}

/** A running {@link startCacheProxy}. */
export interface CacheProxy {
  port: number;
  url(path?: string): string;
  proxy: HttpProxy<CacheCtx>;
  /** The storage every request uses (it tracks its own weight in an unbounded LRU). */
  storage: MemoryStorage<CacheMeta>;
  /** The small manager the `x-eviction` requests are admitted to. */
  eviction: LruEvictionManager;
  lock: CacheLock;
  predictor: Predictor;
  logs: CapturedLog[];
}

const has = (session: Session, name: string) => session.getHeader(name) !== undefined;

/** Pingora's `x-cache-status` value for the request's cache phase. */
export function cacheStatus(session: Session): string {
  const cache = session.cache;
  if (!cache.enabled()) return cache.noCacheReason() === 'Deferred' ? 'deferred' : 'no-cache';
  switch (cache.phase) {
    case 'Hit':
      return 'hit';
    case 'Miss':
      return 'miss';
    case 'Stale':
      return 'stale';
    case 'StaleUpdating':
      return 'stale-updating';
    case 'Expired':
      return 'expired';
    case 'Revalidated':
    case 'RevalidatedNoCache':
      return 'revalidated';
    default:
      return 'invalid';
  }
}

/** The `ProxyHttp` of Pingora's `ExampleProxyCache` over the given cache pieces. */
export function exampleProxyCache(
  origin: CacheOrigin,
  parts: Pick<CacheProxy, 'storage' | 'eviction' | 'lock' | 'predictor'>,
  options: CacheProxyOptions = {},
): ProxyHttp<CacheCtx> {
  const defaults = new CacheMetaDefaults(
    () => options.defaultFreshSec ?? 1,
    options.staleWhileRevalidateSec ?? 1,
    options.staleIfErrorSec ?? 1,
  );
  const allowed =
    options.varyAllowedHeaders === null
      ? undefined
      : new Set(options.varyAllowedHeaders ?? ['accept', 'accept-encoding']);
  const waitTimeoutMs = options.lockWaitTimeoutMs ?? 2000;
  const { storage, eviction, lock, predictor } = parts;
  return {
    newCtx: () => ({ upstreamStatus: undefined }),
    earlyRequestFilter(session) {
      if (has(session, 'x-downstream-compression')) session.downstreamCompression?.adjustLevel(6);
      if (has(session, 'x-downstream-decompression'))
        session.downstreamCompression?.adjustDecompression(true);
    },
    upstreamPeer(session) {
      const h2 = session.getHeader('x-h2') === 'true';
      const port = session.getHeader('x-port') ?? (h2 ? origin.h2cPort : origin.port);
      const peer = new HttpPeer(`127.0.0.1:${port}`, false, '');
      if (h2) peer.options.setHttpVersion(2, 2);
      return peer;
    },
    requestCacheFilter(session) {
      if (has(session, 'x-bypass-cache')) return;
      session.cache.enable(
        storage,
        has(session, 'x-eviction') ? eviction : undefined,
        predictor,
        has(session, 'x-lock') ? lock : undefined,
        { waitTimeoutMs },
      );
      const max = session.getHeader('x-cache-max-file-size-bytes');
      if (max !== undefined) session.cache.setMaxFileSizeBytes(Number(max));
    },
    // Host plus path and query, as Pingora's test proxy keys (not a production key: no scheme).
    cacheKeyCallback: (session) => CacheKey.default(session.reqHeader()),
    cacheHitFilter(session, _meta, _hit, isFresh) {
      if (has(session, 'x-force-miss')) return 'ForceMiss';
      if (!isFresh) return has(session, 'x-force-fresh') ? 'ForceFresh' : undefined;
      return has(session, 'x-force-expire') ? 'ForceExpired' : undefined;
    },
    cacheVaryFilter(meta, _ctx, req) {
      const builder = new VarianceBuilder();
      const names = meta.headers
        .getAll('vary')
        .flatMap((v) => v.split(','))
        .map((n) => n.trim().toLowerCase())
        .filter((n) => n !== '' && (allowed === undefined || allowed.has(n)));
      for (const name of names) builder.addValue(name, req.headers.get(name) ?? '');
      return builder.finalize();
    },
    upstreamRequestFilter(session, upstreamRequest) {
      const ae = session.getHeader('x-upstream-accept-encoding');
      if (ae !== undefined) upstreamRequest.insertHeader('accept-encoding', ae);
    },
    responseCacheFilter(session, resp) {
      // Storing a 101 is unusual; the tests check it can be done.
      if (resp.status === 101 && has(session, 'x-cache-websocket')) {
        const now = Date.now();
        return RespCacheable.cacheable(
          new CacheMeta({
            freshUntil: now + 5000,
            created: now,
            staleWhileRevalidateSec: 0,
            staleIfErrorSec: 0,
            header: resp.clone(),
          }),
        );
      }
      const meta = respCacheable(CacheControl.fromHeaders(resp.headers), resp.clone(), false, defaults);
      return meta === undefined ? RespCacheable.uncacheable('OriginNotCache') : RespCacheable.cacheable(meta);
    },
    upstreamResponseFilter(session, resp, ctx) {
      ctx.upstreamStatus = resp.status;
      if (has(session, 'x-upstream-fake-http10')) {
        resp.setVersion('1.0');
        resp.removeHeader('content-length');
        resp.removeHeader('transfer-encoding');
      }
      const cc = session.getHeader('x-set-cache-control');
      if (cc !== undefined) resp.insertHeader('cache-control', cc);
    },
    responseFilter(session, resp, ctx) {
      resp.insertHeader('x-cache-status', cacheStatus(session));
      const waited = session.cache.lockDuration();
      if (waited !== undefined) resp.insertHeader('x-cache-lock-time-ms', String(Math.floor(waited)));
      if (ctx.upstreamStatus !== undefined)
        resp.insertHeader('x-upstream-status', String(ctx.upstreamStatus));
    },
    // The default mapping, plus how long the request waited on the lock.
    failToProxy(session, error) {
      const code = errorStatus(error);
      if (code > 0) {
        const resp = ResponseHeader.build(code);
        resp.insertHeader('content-length', '0');
        resp.insertHeader('cache-control', 'private, no-store');
        const waited = session.cache.lockDuration();
        if (waited !== undefined) resp.insertHeader('x-cache-lock-time-ms', String(Math.floor(waited)));
        session.setKeepalive(undefined);
        try {
          session.writeResponseHeader(resp, true);
        } catch {
          // The client is gone or a response was already started: nothing more to tell it.
        }
      }
      return { errorCode: code, canReuseDownstream: false };
    },
    // Stale while revalidating, and instead of upstream errors.
    shouldServeStale: (_session, _ctx, error) => error === undefined || error.source === ErrorSource.Upstream,
    isPurge: (session) => session.reqHeader().method === 'PURGE',
  };
}

/**
 * Starts Pingora's cache test proxy on 127.0.0.1:0 in front of `origin`, with fresh cache pieces;
 * it closes on `closeAll()`.
 *
 * @example
 * ```ts
 * const origin = await startCacheOrigin();
 * const p = await startCacheProxy(origin);
 * const r = await request(p.url('/unique/a/now'));
 * expect(r.headers['x-cache-status']).toBe('miss');
 * ```
 */
export async function startCacheProxy(
  origin: CacheOrigin,
  options: CacheProxyOptions = {},
): Promise<CacheProxy> {
  // The storage keeps its own (unbounded) weight book; the small manager is only for `x-eviction`
  // requests, as Pingora's test proxy hands its manager to those alone.
  const storage = new MemoryStorage<CacheMeta>({
    eviction: new LruEvictionManager({ maxBytes: Number.MAX_SAFE_INTEGER }),
    freshUntil: (m) => m.freshUntil,
  });
  const eviction = new LruEvictionManager({ maxBytes: options.evictionMaxBytes ?? 8192 });
  const lock = new CacheLock({ ageTimeoutMs: options.lockAgeTimeoutMs ?? 2000 });
  const predictor = new Predictor({ capacity: options.predictorCapacity ?? 5 });
  const parts = { storage, eviction, lock, predictor };
  const p = await startProxy(exampleProxyCache(origin, parts, options));
  return { ...p, ...parts };
}
