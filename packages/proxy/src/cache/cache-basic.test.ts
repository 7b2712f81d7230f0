import {
  CacheLock,
  type CacheMeta,
  LruEvictionManager,
  MemoryStorage,
} from '@pingora-ts/cache';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, request, startOrigin, startProxy } from '../../test/helpers.js';
import type { ProxyHttp } from '../index.js';

afterEach(closeAll);

function memoryCache() {
  const eviction = new LruEvictionManager({ maxBytes: 1 << 20 });
  const storage = new MemoryStorage<CacheMeta>({ eviction, freshUntil: (m) => m.freshUntil });
  const lock = new CacheLock({ ageTimeoutMs: 5_000, waitTimeoutMs: 5_000 });
  return { eviction, storage, lock };
}

describe('cache basics', () => {
  it('a miss fills the cache; the next request is a hit that never reaches the origin', async () => {
    let hits = 0;
    const origin = await startOrigin((_req, res) => {
      hits++;
      res.setHeader('cache-control', 'max-age=60');
      res.end('hello world');
    });
    const { storage, eviction, lock } = memoryCache();
    const proxy: ProxyHttp = {
      upstreamPeer: () => origin.peer(),
      requestCacheFilter: (s) => s.cache.enable(storage, eviction, undefined, lock),
      responseFilter: (s, resp) => void resp.insertHeader('x-cache-status', s.cache.cachePhaseName()),
    };
    const p = await startProxy(proxy);
    const r1 = await request(p.url('/a'));
    expect(r1.status).toBe(200);
    expect(r1.body).toBe('hello world');
    expect(r1.headers['x-cache-status']).toBe('miss');
    const r2 = await request(p.url('/a'));
    expect(r2.body).toBe('hello world');
    expect(r2.headers['x-cache-status']).toBe('hit');
    expect(r2.headers.age).toBeDefined();
    expect(hits).toBe(1);
  });
});
