import { RequestHeader, ResponseHeader } from '@pingora-ts/http';
import { describe, expect, it } from 'vitest';
import {
  CacheControl,
  CacheKey,
  CacheLock,
  CacheMeta,
  CacheMetaDefaults,
  LruEvictionManager,
  MemoryStorage,
  respCacheable,
} from './index.js';

// The pieces as the proxy will join them: a key from the request, a meta from the response,
// the lock around the miss, and the storage bounded by the eviction manager.
describe('the cache building blocks together', () => {
  it('a miss stored under the compact key is a hit for the next request, and readers wait on the lock', async () => {
    const req = RequestHeader.build('GET', '/a?x=1');
    req.insertHeader('Host', 'example.com');
    const key = CacheKey.default(req).toCompact();
    expect(key.hashKey).toBe(key.combinedHex());

    const now = Date.UTC(2026, 11, 2);
    const resp = ResponseHeader.build(200);
    resp.insertHeader('Cache-Control', 'max-age=60');
    const defaults = new CacheMetaDefaults(() => undefined, 0, 0);
    const meta = respCacheable(CacheControl.fromHeaders(resp.headers), resp, false, defaults, now);
    expect(meta).toBeInstanceOf(CacheMeta);

    const storage = new MemoryStorage<CacheMeta>({
      eviction: new LruEvictionManager({ maxBytes: 1 << 20 }),
      freshUntil: (m) => m.freshUntil,
    });
    const lock = new CacheLock({ ageTimeoutMs: 10_000 });
    const writer = lock.lock(key.hashKey);
    const reader = lock.lock(key.hashKey);
    expect([writer.kind, reader.kind]).toEqual(['write', 'read']);

    const miss = await storage.getMissHandler(key, meta!);
    await miss.writeBody(new TextEncoder().encode('hello'), true);
    await miss.finish();
    if (writer.kind === 'write') writer.permit.unlock('Done');
    if (reader.kind === 'read') expect((await reader.lock.wait()).status).toBe('Done');

    const hit = await storage.lookup(key);
    expect(hit?.meta.isFresh(now + 30_000)).toBe(true);
    expect(hit?.meta.isFresh(now + 61_000)).toBe(false);
    expect(new TextDecoder().decode(await hit!.hit.readBody())).toBe('hello');
    expect(lock.size).toBe(0);
  });
});
