import { ResponseHeader } from '@pingora-ts/http';
import { describe, expect, it } from 'vitest';
import { LruEvictionManager } from '../eviction/lru.js';
import { CacheKey } from '../key.js';
import { CacheLock } from '../lock/cache-lock.js';
import { CacheMeta } from '../meta.js';
import { MemoryStorage } from '../storage/memory.js';
import { HttpCache } from './index.js';
import { readAll } from '../../test/read-all.js';

// The stored asset went stale 10 s ago; it may be served stale for 30 s (revalidating) or 300 s (origin down).
const NOW = Date.UTC(2026, 11, 2, 12);
const CREATED = NOW - 70_000;
const PATH = 'example.com/stale';
const enc = new TextEncoder();

function staleMeta(): CacheMeta {
  const header = ResponseHeader.build(200);
  header.insertHeader('Content-Type', 'text/plain');
  header.insertHeader('ETag', '"v1"');
  header.insertHeader('Cache-Control', 'max-age=60');
  return new CacheMeta({
    freshUntil: NOW - 10_000,
    created: CREATED,
    staleWhileRevalidateSec: 30,
    staleIfErrorSec: 300,
    header,
  });
}

async function stored(): Promise<{ storage: MemoryStorage<CacheMeta>; lock: CacheLock }> {
  const storage = new MemoryStorage<CacheMeta>({
    eviction: new LruEvictionManager({ maxBytes: 1 << 20 }),
    freshUntil: (m) => m.freshUntil,
  });
  const write = await storage.getMissHandler(new CacheKey('', PATH).toCompact(), staleMeta());
  await write.writeBody(enc.encode('old body'), true);
  await write.finish();
  return { storage, lock: new CacheLock({ ageTimeoutMs: 60_000 }) };
}

async function found(
  s: { storage: MemoryStorage<CacheMeta>; lock: CacheLock },
  status: 'Expired' | 'ForceExpired' = 'Expired',
): Promise<HttpCache> {
  const cache = new HttpCache();
  cache.enable(s.storage, undefined, undefined, s.lock);
  cache.setCacheKey(new CacheKey('', PATH));
  const hit = await cache.cacheLookup();
  expect(hit).toBeDefined();
  cache.cacheFound(hit!.meta, hit!.hit, status);
  return cache;
}

describe('HttpCache stale assets', () => {
  it('makes the first request the stale writer and revalidates on a 304', async () => {
    const s = await stored();
    const cache = await found(s);
    expect(cache.phase).toBe('Stale');
    expect(cache.isCacheLockWriter()).toBe(true);
    expect(cache.upstreamUsed()).toBe(false);
    const permit = cache.takeWriteLock();
    expect(permit.staleWriter).toBe(true);
    cache.setWriteLock(permit);

    const notModified = ResponseHeader.build(304);
    notModified.insertHeader('ETag', '"v2"');
    notModified.insertHeader('Cache-Control', 'max-age=120');
    const merged = cache.revalidateMergeHeader(notModified);
    expect(merged.status).toBe(200);
    expect(merged.headers.get('etag')).toBe('"v2"');
    expect(merged.headers.get('cache-control')).toBe('max-age=120');
    expect(merged.headers.get('content-type')).toBe('text/plain');
    expect(cache.cacheMeta().headers.get('etag')).toBe('"v1"');

    const fresh = new CacheMeta({
      freshUntil: NOW + 120_000,
      created: NOW,
      staleWhileRevalidateSec: 0,
      staleIfErrorSec: 0,
      header: merged,
    });
    fresh.extensions.tag = 'new';
    expect(await cache.revalidateCacheMeta(fresh)).toBe(true);
    expect(cache.phase).toBe('Revalidated');
    expect(cache.upstreamUsed()).toBe(true);
    expect(cache.cachePhaseName()).toBe('revalidated');
    expect(s.lock.size).toBe(0);
    expect(permit.status).toBe('Done');
    // The body confirmed by the 304 is served from the hit handler.
    expect(await readAll(cache.hitHandler())).toBe('old body');
    await cache.finishHitHandler();

    const after = await s.storage.lookup(new CacheKey('', PATH).toCompact());
    expect(after!.meta.freshUntil).toBe(NOW + 120_000);
    expect(after!.meta.created).toBe(CREATED);
    expect(after!.meta.updated).toBe(NOW);
    expect(after!.meta.headers.get('etag')).toBe('"v2"');
  });

  it('replaces the stale asset with a new response (Expired)', async () => {
    const s = await stored();
    const cache = await found(s);
    const header = ResponseHeader.build(200);
    cache.setCacheMeta(
      new CacheMeta({
        freshUntil: NOW + 60_000,
        created: NOW,
        staleWhileRevalidateSec: 0,
        staleIfErrorSec: 0,
        header,
      }),
    );
    expect(cache.phase).toBe('Expired');
    expect(cache.upstreamUsed()).toBe(true);
    expect(await cache.setMissHandler()).toBe(true);
    await cache.writeBody(enc.encode('new body'), true);
    await cache.finishMissHandler();
    expect(s.lock.size).toBe(0);
    const after = await s.storage.lookup(new CacheKey('', PATH).toCompact());
    expect(await readAll(after!.hit)).toBe('new body');
  });

  it('serves stale to a reader while the writer refreshes, within stale-while-revalidate', async () => {
    const s = await stored();
    const writer = await found(s);
    expect(writer.isCacheLockWriter()).toBe(true);
    const reader = await found(s);
    expect(reader.isCacheLocked()).toBe(true);
    expect(reader.canServeStaleUpdating(NOW)).toBe(true);
    expect(reader.canServeStaleUpdating(NOW + 20_001)).toBe(false);
    expect(reader.canServeStaleError(NOW + 290_000)).toBe(true);
    expect(reader.canServeStaleError(NOW + 290_001)).toBe(false);
    reader.setStaleUpdating();
    expect(reader.phase).toBe('StaleUpdating');
    expect(reader.isCacheLocked()).toBe(false);
    expect(reader.upstreamUsed()).toBe(false);
    expect(reader.cachePhaseName()).toBe('stale-updating');
    expect(await readAll(reader.hitHandler())).toBe('old body');
    expect(writer.canServeStaleError(NOW)).toBe(true);
    writer.disable('UpstreamError');
    expect(s.lock.size).toBe(0);
  });

  it('lets a waiting stale reader find the refreshed asset as a hit', async () => {
    const s = await stored();
    const writer = await found(s);
    const reader = await found(s);
    const wait = reader.cacheLockWait();
    const fresh = staleMeta();
    fresh.freshUntil = Date.now() + 60_000;
    await writer.revalidateCacheMeta(fresh);
    expect(await wait).toBe('Done');
    const again = await reader.cacheLookup();
    expect(again!.meta.isFresh(Date.now())).toBe(true);
    reader.cacheFound(again!.meta, again!.hit, 'Fresh');
    expect(reader.phase).toBe('Hit');
  });

  it('marks a revalidation whose response may not be stored, without touching the stored meta', async () => {
    const s = await stored();
    const writer = await found(s);
    const reader = await found(s);
    const wait = reader.cacheLockWait();
    const header = ResponseHeader.build(200);
    header.insertHeader('Cache-Control', 'no-store');
    writer.revalidateUncacheable(header, 'OriginNotCache');
    expect(writer.phase).toBe('RevalidatedNoCache');
    expect(writer.noCacheReason()).toBe('OriginNotCache');
    expect(writer.cachePhaseName()).toBe('revalidated-nocache');
    expect(writer.upstreamUsed()).toBe(true);
    expect(writer.cacheMeta().headers.get('cache-control')).toBe('no-store');
    expect(await readAll(writer.hitHandler())).toBe('old body');
    expect(await wait).toBe('GiveUp');
    const after = await s.storage.lookup(new CacheKey('', PATH).toCompact());
    expect(after!.meta.headers.get('cache-control')).toBe('max-age=60');
  });

  it('never serves a force-expired asset stale, and leaves the stored meta alone', async () => {
    const s = await stored();
    const cache = await found(s, 'ForceExpired');
    expect(cache.phase).toBe('Stale');
    expect(cache.canServeStaleUpdating(NOW)).toBe(false);
    expect(cache.canServeStaleError(NOW)).toBe(false);
    const after = await s.storage.lookup(new CacheKey('', PATH).toCompact());
    expect(after!.meta.staleWhileRevalidateSec).toBe(30);
  });

  it('treats ForceMiss and FailedHitFilter as misses that take the lock', async () => {
    const s = await stored();
    const caches = [new HttpCache(), new HttpCache()];
    for (const [i, status] of (['ForceMiss', 'FailedHitFilter'] as const).entries()) {
      const cache = caches[i]!;
      cache.enable(s.storage, undefined, undefined, s.lock);
      cache.setCacheKey(new CacheKey('', PATH));
      const hit = await cache.cacheLookup();
      cache.cacheFound(hit!.meta, hit!.hit, status);
      expect(cache.phase).toBe('CacheKey');
      expect(cache.maybeCacheMeta()).toBeUndefined();
      expect(() => cache.hitHandler()).toThrow(/phase CacheKey/);
    }
    expect(caches[0]!.isCacheLockWriter()).toBe(true);
    expect(caches[1]!.isCacheLocked()).toBe(true);
    caches[0]!.cacheMiss();
    expect(caches[0]!.phase).toBe('Miss');
    expect(() => caches[0]!.setStaleUpdating()).toThrow(/setStaleUpdating\(\) is not allowed in phase Miss/);
    caches[0]!.disable('UpstreamError');
    caches[1]!.disable('InternalError');
    expect(s.lock.size).toBe(0);
  });
});
