/**
 * A caching reverse proxy (Pingora's cache phases): GET and HEAD responses are stored in memory
 * (LRU, bounded by bytes), the origin's Cache-Control decides how long, and 200s without one are
 * kept for a default TTL. Every response says what the cache did in `x-cache-status` (miss, hit,
 * stale, revalidated, …). `PURGE <path>` removes an asset. The cache lock makes a stampede of
 * requests for one missing asset reach the origin once: the first fetches, the others wait and
 * are served the stored copy.
 *
 *   pnpm --filter @pingora-ts/examples caching-proxy
 *   curl -i 127.0.0.1:6194/a ; curl -i 127.0.0.1:6194/a ; curl -i -X PURGE 127.0.0.1:6194/a
 */
import {
  CacheControl,
  CacheLock,
  type CacheMeta,
  CacheMetaDefaults,
  LruEvictionManager,
  MemoryStorage,
  Predictor,
  RespCacheable,
  respCacheable,
} from '@pingora-ts/cache';
import { HttpPeer, Server } from '@pingora-ts/core';
import { httpProxyService, type ProxyHttp } from '@pingora-ts/proxy';
import { isMain, startDemoOrigin } from './lib/demo-origins.js';
import { type Running, startServices } from './lib/run.js';

/** Settings of {@link cachingProxy}. */
export interface CachingOptions {
  /** Freshness of a 200 the origin says nothing about, seconds. Default 60. */
  defaultTtlSec?: number;
  /** Memory for cached bodies, bytes. Default 64 MiB. */
  maxBytes?: number;
  /** Largest body stored, bytes. Default 8 MiB. */
  maxFileSize?: number;
}

/** The proxy and the cache it fills (one storage, eviction manager, lock and predictor per proxy). */
export function cachingProxy(origin: string, options: CachingOptions = {}) {
  const eviction = new LruEvictionManager({ maxBytes: options.maxBytes ?? 64 << 20 });
  const storage = new MemoryStorage<CacheMeta>({ eviction, freshUntil: (m) => m.freshUntil });
  const lock = new CacheLock({ ageTimeoutMs: 10_000, waitTimeoutMs: 5_000 });
  const predictor = new Predictor({ capacity: 10_000 });
  const ttl = options.defaultTtlSec ?? 60;
  // 200s (and the 304s that revalidate them) get `ttl`; 10 s stale-while-revalidate, 60 s
  // stale-if-error unless the origin says otherwise.
  const defaults = new CacheMetaDefaults((status) => (status === 200 ? ttl : undefined), 10, 60);
  const maxFileSize = options.maxFileSize ?? 8 << 20;

  const proxy: ProxyHttp = {
    upstreamPeer: () => new HttpPeer(origin, false, ''),
    requestCacheFilter(session) {
      const method = session.reqHeader().method;
      if (method !== 'GET' && method !== 'HEAD' && method !== 'PURGE') return;
      session.cache.enable(storage, eviction, predictor, lock);
      session.cache.setMaxFileSizeBytes(maxFileSize);
    },
    // A real deployment would also check who may purge (an allow-list of addresses, a token).
    isPurge: (session) => session.reqHeader().method === 'PURGE',
    responseCacheFilter(session, resp) {
      const auth = session.reqHeader().headers.get('authorization') !== undefined;
      const meta = respCacheable(CacheControl.fromHeaders(resp.headers), resp.clone(), auth, defaults);
      return meta === undefined ? RespCacheable.uncacheable('OriginNotCache') : RespCacheable.cacheable(meta);
    },
    responseFilter(session, resp) {
      resp.insertHeader('x-cache-status', session.cache.cachePhaseName());
    },
  };
  return { proxy, storage, eviction, lock, predictor };
}

/** Starts the caching proxy on `port` in front of `origin`. */
export async function main(port: number, origin: string, options?: CachingOptions): Promise<Running> {
  const service = httpProxyService(new Server(null).configuration, cachingProxy(origin, options).proxy);
  service.addTcp(`127.0.0.1:${port}`);
  return startServices([service]);
}

if (isMain(import.meta.url)) {
  const o = await startDemoOrigin('cached');
  await main(6194, o.addr);
  console.log(
    'caching proxy on :6194 — try: curl -i 127.0.0.1:6194/a twice, then curl -i -X PURGE 127.0.0.1:6194/a',
  );
}
