import { ResponseHeader } from '@pingora-ts/http';
import { describe, expect, it } from 'vitest';
import { LruEvictionManager } from '../eviction/lru.js';
import { CacheKey, type HashBinary, hashKey } from '../key.js';
import { CacheMeta } from '../meta.js';
import { MemoryStorage } from '../storage/memory.js';
import { HttpCache } from './index.js';
import { readAll } from '../../test/read-all.js';

const NOW = Date.UTC(2026, 11, 2, 12);
const PATH = 'example.com/varied';
const enc = new TextEncoder();
const GZIP = hashKey('accept-encoding', '\0', 'gzip');
const BR = hashKey('accept-encoding', '\0', 'br');

function meta(created = NOW): CacheMeta {
  return new CacheMeta({
    freshUntil: created + 60_000,
    created,
    staleWhileRevalidateSec: 0,
    staleIfErrorSec: 0,
    header: ResponseHeader.build(200),
  });
}

function newStorage(): MemoryStorage<CacheMeta> {
  return new MemoryStorage<CacheMeta>({
    eviction: new LruEvictionManager({ maxBytes: 1 << 20 }),
    freshUntil: (m) => m.freshUntil,
  });
}

/**
 * One request for the variant `variance`, as Pingora's proxy runs it: serve the variant if found,
 * else store `body` as the response, which varies the same way.
 */
async function request(
  storage: MemoryStorage<CacheMeta>,
  variance: HashBinary,
  body: string,
  created = NOW,
): Promise<{ served: string; cache: HttpCache }> {
  const cache = new HttpCache();
  cache.enable(storage);
  cache.setCacheKey(new CacheKey('', PATH));
  for (;;) {
    const found = await cache.cacheLookup();
    if (found === undefined) break;
    if (cache.cacheKey().getVarianceKey() === undefined && cache.cacheVaryLookup(variance, found.meta))
      continue;
    cache.cacheFound(found.meta, found.hit, 'Fresh');
    return { served: await readAll(cache.hitHandler()), cache };
  }
  cache.cacheMiss();
  cache.setCacheMeta(meta(created));
  cache.updateVariance(variance);
  await cache.setMissHandler();
  await cache.writeBody(enc.encode(body), true);
  await cache.finishMissHandler();
  return { served: `fetched ${body}`, cache };
}

describe('HttpCache variance', () => {
  it('keeps the first variant in the primary slot and others in secondary slots', async () => {
    const storage = newStorage();
    expect((await request(storage, GZIP, 'gzip body')).served).toBe('fetched gzip body');
    const primary = await storage.lookup(new CacheKey('', PATH).toCompact());
    expect(primary!.meta.variance).toEqual(GZIP);

    const br = await request(storage, BR, 'br body');
    expect(br.served).toBe('fetched br body');
    // Stored under the secondary slot, with the key's variance in its meta.
    expect(br.cache.cacheKey().getVarianceKey()).toEqual(BR);
    expect(br.cache.maybeCacheMeta()!.variance).toEqual(BR);
    expect(storage.storedItems()).toBe(2);

    const gzipAgain = await request(storage, GZIP, 'unused');
    expect(gzipAgain.served).toBe('gzip body');
    // The primary slot's variant is addressed without variance, so revalidation finds it.
    expect(gzipAgain.cache.cacheKey().getVarianceKey()).toBeUndefined();
    const brAgain = await request(storage, BR, 'unused');
    expect(brAgain.served).toBe('br body');
    expect(brAgain.cache.cacheKey().getVarianceKey()).toEqual(BR);
  });

  it('ignores variants older than the primary asset (a purge of the primary voids them)', async () => {
    const storage = newStorage();
    await request(storage, GZIP, 'gzip body', NOW);
    await request(storage, BR, 'old br', NOW);
    // The primary slot is replaced by a newer asset: the br variant predates it.
    await storage.purge(new CacheKey('', PATH).toCompact(), 'Invalidation');
    await request(storage, GZIP, 'gzip v2', NOW + 1000);
    const br = await request(storage, BR, 'br v2', NOW + 1000);
    expect(br.served).toBe('fetched br v2');
    expect((await request(storage, BR, 'unused', NOW + 2000)).served).toBe('br v2');
  });

  it('returns false and leaves the key alone for a request that does not vary', async () => {
    const storage = newStorage();
    await request(storage, GZIP, 'gzip body');
    const cache = new HttpCache();
    cache.enable(storage);
    cache.setCacheKey(new CacheKey('', PATH));
    const found = await cache.cacheLookup();
    expect(cache.cacheVaryLookup(undefined, found!.meta)).toBe(false);
    expect(cache.cacheKey().getVarianceKey()).toBeUndefined();
    cache.cacheMiss();
    expect(() => cache.cacheVaryLookup(GZIP, found!.meta)).toThrow(/phase Miss/);
  });

  it('moves a response whose Vary changed into the primary slot', async () => {
    const storage = newStorage();
    await request(storage, GZIP, 'gzip body');
    const cache = new HttpCache();
    cache.enable(storage);
    cache.setCacheKey(new CacheKey('', PATH));
    const found = await cache.cacheLookup();
    expect(cache.cacheVaryLookup(BR, found!.meta)).toBe(true);
    expect(await cache.cacheLookup()).toBeUndefined();
    cache.cacheMiss();
    cache.setCacheMeta(meta());
    expect(cache.cacheMeta().variance).toEqual(BR);
    // The new response no longer varies: it takes over the primary slot.
    cache.updateVariance(undefined);
    expect(cache.cacheMeta().variance).toBeUndefined();
    expect(cache.cacheKey().getVarianceKey()).toBeUndefined();
    await cache.setMissHandler();
    await cache.writeBody(enc.encode('plain'), true);
    await cache.finishMissHandler();
    const primary = await storage.lookup(new CacheKey('', PATH).toCompact());
    expect(await readAll(primary!.hit)).toBe('plain');
    expect(primary!.meta.variance).toBeUndefined();
  });
});
