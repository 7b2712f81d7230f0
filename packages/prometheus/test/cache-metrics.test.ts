import {
  CacheControl,
  CacheKey,
  type CacheMeta,
  CacheMetaDefaults,
  LruEvictionManager,
  MemoryStorage,
  RespCacheable,
  respCacheable,
} from '@pingora-ts/cache';
import type { ProxyHttp } from '@pingora-ts/proxy';
import { closeAll, request, waitFor } from '@pingora-ts/test-utils';
import { Registry } from 'prom-client';
import { afterEach, expect, it } from 'vitest';
import { ProxyMetrics, withProxyMetrics } from '../src/index.js';
import { startOrigin, startProxy } from './helpers.js';

afterEach(closeAll);

it('counts cache statuses only for requests that used the cache', async () => {
  const registry = new Registry();
  const metrics = new ProxyMetrics({ registry });
  // Requests for the cached path that reached the origin: each is a miss.
  let misses = 0;
  const origin = await startOrigin((req, res) => {
    if (req.url === '/a') misses++;
    res.setHeader('Cache-Control', 'max-age=60');
    res.end('cached body');
  });
  const storage = new MemoryStorage<CacheMeta>({
    eviction: new LruEvictionManager({ maxBytes: 1024 * 1024 }),
    freshUntil: (m) => m.freshUntil,
  });
  const defaults = new CacheMetaDefaults(() => undefined, 0, 0);
  const inner: ProxyHttp = {
    upstreamPeer: () => origin.peer(),
    requestCacheFilter(session) {
      if (session.reqHeader().uri !== '/nocache') session.cache.enable(storage);
    },
    cacheKeyCallback: (session) => CacheKey.default(session.reqHeader()),
    responseCacheFilter(_session, resp) {
      const meta = respCacheable(CacheControl.fromHeaders(resp.headers), resp.clone(), false, defaults);
      return meta === undefined ? RespCacheable.uncacheable('OriginNotCache') : RespCacheable.cacheable(meta);
    },
  };
  const url = await startProxy(withProxyMetrics(inner, metrics));
  const count = async (status: string) =>
    (await metrics.cacheRequests.get()).values.find((v) => v.labels.cache_status === status)?.value ?? 0;
  const total = async () => (await metrics.requests.get()).values.reduce((n, v) => n + v.value, 0);

  expect((await request(url('/a'))).body).toBe('cached body');
  await waitFor(async () => (await total()) === 1, { message: 'the miss counted' });
  // The hit is answered from storage only once the miss has finished writing it.
  await waitFor(async () => (await request(url('/a'))).body === 'cached body' && (await count('hit')) >= 1, {
    message: 'a cache hit counted',
  });
  expect((await request(url('/nocache'))).status).toBe(200);
  await waitFor(async () => (await total()) === (await count('hit')) + misses + 1, {
    message: 'the uncached request counted',
  });

  expect(await count('miss')).toBe(misses);
  expect(misses).toBeGreaterThanOrEqual(1);
  const statuses = (await metrics.cacheRequests.get()).values.map((v) => v.labels.cache_status).sort();
  expect(statuses).toEqual(['hit', 'miss']);
});
