import { CacheLock, type CacheMeta, LruEvictionManager, MemoryStorage } from '@pingora-ts/cache';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, request, startOrigin, startProxy, waitFor } from '../../test/helpers.js';
import { type AccessLogRecord, accessLog, type ProxyHttp } from '../index.js';

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

  it('the access line says what the cache did; a hit has no upstream', async () => {
    const origin = await startOrigin((_req, res) => {
      res.setHeader('cache-control', 'max-age=60');
      res.end('cached body');
    });
    const { storage, eviction, lock } = memoryCache();
    const records: AccessLogRecord[] = [];
    const p = await startProxy({
      upstreamPeer: () => origin.peer(),
      requestCacheFilter: (s) => s.cache.enable(storage, eviction, undefined, lock),
      logging: (s, e) => void records.push(accessLog(s.logger, s, e)),
    });
    await request(p.url('/log'));
    await request(p.url('/log'));
    await waitFor(() => records.length === 2);
    expect(records[0]).toMatchObject({ cache: 'miss', upstream: `127.0.0.1:${origin.port}` });
    expect(records[1]).toMatchObject({ cache: 'hit', upstream: undefined, status: 200, bytesSent: 11 });
    const lines = p.logs.filter((l) => l.msg.startsWith('GET /log'));
    expect(lines.map((l) => / cache=(\w+)/.exec(l.msg)?.[1])).toEqual(['miss', 'hit']);
  });

  it('without requestCacheFilter the access line has no cache field and nothing is stored', async () => {
    let hits = 0;
    const origin = await startOrigin((_req, res) => {
      hits++;
      res.setHeader('cache-control', 'max-age=60');
      res.end('x');
    });
    const records: AccessLogRecord[] = [];
    const p = await startProxy({
      upstreamPeer: () => origin.peer(),
      logging: (s, e) => void records.push(accessLog(s.logger, s, e)),
    });
    expect(p.proxy.proxyCache).toBeUndefined();
    await request(p.url('/n'));
    await request(p.url('/n'));
    await waitFor(() => records.length === 2);
    expect(hits).toBe(2);
    expect(records.every((r) => r.cache === undefined)).toBe(true);
  });
});
