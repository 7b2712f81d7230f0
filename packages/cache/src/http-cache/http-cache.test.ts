import { ResponseHeader } from '@pingora-ts/http';
import { describe, expect, it } from 'vitest';
import { LruEvictionManager } from '../eviction/lru.js';
import { CacheKey } from '../key.js';
import { CacheMeta } from '../meta.js';
import { NoCacheReason } from '../no-cache-reason.js';
import { Predictor } from '../predictor.js';
import { MemoryStorage } from '../storage/memory.js';
import { HttpCache } from './index.js';
import { readAll } from '../../test/read-all.js';

const NOW = Date.UTC(2026, 11, 2, 12);
const enc = new TextEncoder();

function storageWith(eviction = new LruEvictionManager({ maxBytes: 1 << 30 })): MemoryStorage<CacheMeta> {
  return new MemoryStorage<CacheMeta>({ eviction, freshUntil: (m) => m.freshUntil });
}

function meta(freshSec = 60, headers: Record<string, string> = {}): CacheMeta {
  const header = ResponseHeader.build(200);
  for (const [k, v] of Object.entries(headers)) header.insertHeader(k, v);
  return new CacheMeta({
    freshUntil: NOW + freshSec * 1000,
    created: NOW,
    staleWhileRevalidateSec: 0,
    staleIfErrorSec: 0,
    header,
  });
}

/** Runs a whole miss: lookup, miss, store `body`. */
async function fill(cache: HttpCache, body: string, m = meta()): Promise<void> {
  expect(await cache.cacheLookup()).toBeUndefined();
  cache.cacheMiss();
  cache.setCacheMeta(m);
  expect(await cache.setMissHandler()).toBe(true);
  expect(await cache.writeBody(enc.encode(body), true)).toBe(true);
  await cache.finishMissHandler();
}

describe('HttpCache lifecycle', () => {
  it('starts disabled (NeverEnabled), and a disable never replaces that reason', () => {
    const cache = new HttpCache();
    expect(cache.phase).toBe('Disabled');
    expect(cache.noCacheReason()).toBe('NeverEnabled');
    expect(cache.enabled()).toBe(false);
    cache.disable('InternalError');
    expect(cache.noCacheReason()).toBe('NeverEnabled');
    expect(cache.upstreamUsed()).toBe(true);
    expect(cache.cachePhaseName()).toBe('disabled');
    expect(() => cache.disable('NeverEnabled')).toThrow(TypeError);
  });

  it('throws a clear error naming the phase on a wrong transition', async () => {
    const cache = new HttpCache();
    expect(() => cache.setCacheKey(new CacheKey('', 'a'))).toThrow(
      /setCacheKey\(\) is not allowed in phase Disabled/,
    );
    cache.enable(storageWith());
    expect(cache.phase).toBe('Uninit');
    expect(() => cache.enable(storageWith())).toThrow(/enable\(\) is not allowed in phase Uninit/);
    await expect(cache.cacheLookup()).rejects.toThrow(/phase Uninit/);
    expect(() => cache.cacheKey()).toThrow(/no cache key/);
    cache.setCacheKey(new CacheKey('', 'a'));
    expect(() => cache.cacheMeta()).toThrow(/cacheMeta\(\) is not allowed in phase CacheKey/);
    expect(() => cache.setCacheMeta(meta())).toThrow(/phase CacheKey/);
    expect(() => cache.hitHandler()).toThrow(/phase CacheKey/);
  });

  it('stores a miss and serves the next request as a hit', async () => {
    const storage = storageWith();
    const first = new HttpCache();
    first.enable(storage);
    first.setCacheKey(new CacheKey('', 'example.com/a'));
    await fill(first, 'hello');
    expect(first.phase).toBe('Miss');
    expect(first.upstreamUsed()).toBe(true);
    expect(first.missHandlerActive()).toBe(false);
    expect(first.lookupDuration()).toBeGreaterThanOrEqual(0);

    const second = new HttpCache();
    second.enable(storage);
    second.setCacheKey(new CacheKey('', 'example.com/a'));
    const found = await second.cacheLookup();
    expect(found).toBeDefined();
    second.cacheFound(found!.meta, found!.hit, 'Fresh');
    expect(second.phase).toBe('Hit');
    expect(String(second)).toBe('hit');
    expect(second.upstreamUsed()).toBe(false);
    expect(second.cacheMeta().freshUntil).toBe(NOW + 60_000);
    expect(await readAll(second.hitHandler())).toBe('hello');
    await second.finishHitHandler();
    await second.finishHitHandler(); // a second finish is a no-op
    expect(() => second.hitHandler()).toThrow(/phase Hit/);
  });

  it('counts a finished hit with the eviction manager, sized by Content-Length', async () => {
    const storage = storageWith();
    const eviction = new LruEvictionManager({ maxBytes: 1 << 20 });
    const cache = new HttpCache();
    cache.enable(storage, eviction);
    cache.setCacheKey(new CacheKey('', 'counted'));
    const m = meta(60, { 'content-length': '5' });
    await storage.getMissHandler(cache.cacheKey().toCompact(), m).then(async (w) => {
      await w.writeBody(enc.encode('12345'), true);
      await w.finish();
    });
    const found = await cache.cacheLookup();
    cache.cacheFound(found!.meta, found!.hit, 'Fresh');
    expect(eviction.peek(cache.cacheKey().toCompact())).toBe(false);
    await cache.finishHitHandler();
    expect(eviction.peek(cache.cacheKey().toCompact())).toBe(true);
    expect(eviction.totalSize()).toBe(5);
  });

  it('bypass keeps the cache enabled for a response that turns out cacheable', async () => {
    const storage = storageWith();
    const cache = new HttpCache();
    cache.enable(storage);
    cache.setCacheKey(new CacheKey('', 'bypassed'));
    cache.bypass();
    expect(cache.phase).toBe('Bypass');
    expect(cache.enabled()).toBe(false);
    expect(cache.bypassing()).toBe(true);
    cache.bypass(); // idempotent
    cache.cacheMiss();
    cache.setCacheMeta(meta());
    expect(await cache.setMissHandler()).toBe(true);
    await cache.writeBody(enc.encode('late'), true);
    await cache.finishMissHandler();
    const found = await storage.lookup(cache.cacheKey().toCompact());
    expect(await readAll(found!.hit)).toBe('late');
  });

  it('disable is allowed in every phase, keeps the key, and aborts a write in progress', async () => {
    const storage = storageWith();
    const cache = new HttpCache();
    cache.enable(storage);
    cache.setCacheKey(new CacheKey('', 'aborted'));
    expect(await cache.cacheLookup()).toBeUndefined();
    cache.cacheMiss();
    cache.setCacheMeta(meta());
    await cache.setMissHandler();
    await cache.writeBody(enc.encode('part'), false);
    const reader = await storage.lookup(cache.cacheKey().toCompact());
    expect(reader).toBeDefined();
    cache.disable(NoCacheReason.UpstreamError);
    expect(cache.phase).toBe('Disabled');
    expect(cache.noCacheReason()).toBe('UpstreamError');
    expect(cache.missHandlerActive()).toBe(false);
    expect(cache.maybeCacheKey()).toBeDefined();
    await expect(readAll(reader!.hit)).rejects.toThrow();
    expect(await storage.lookup(cache.cacheKey().toCompact())).toBeUndefined();
    expect(await cache.writeBody(enc.encode('more'), true)).toBe(false);
    await cache.finishMissHandler(); // nothing to finish
    cache.disable(NoCacheReason.Custom('Later'));
    expect(cache.noCacheReason()).toEqual({ custom: 'Later' });
    cache.bypass(); // a disabled cache stays disabled
    expect(cache.phase).toBe('Disabled');
    cache.enable(storage);
    expect(cache.phase).toBe('Uninit');
    expect(cache.maybeCacheKey()).toBeUndefined();
  });

  it('purges the key from storage and the eviction manager', async () => {
    const storage = storageWith();
    const eviction = new LruEvictionManager({ maxBytes: 1 << 20 });
    const cache = new HttpCache();
    cache.enable(storage, eviction);
    cache.setCacheKey(new CacheKey('', 'purged'));
    await fill(cache, 'bye');
    const key = cache.cacheKey().toCompact();
    expect(eviction.peek(key)).toBe(true);

    const purger = new HttpCache();
    purger.enable(storage, eviction);
    purger.setCacheKey(new CacheKey('', 'purged'));
    expect(await purger.purge()).toBe(true);
    expect(eviction.peek(key)).toBe(false);
    expect(await storage.lookup(key)).toBeUndefined();
    expect(await purger.purge()).toBe(false);
    await expect(new HttpCache().purge()).rejects.toThrow(/phase Disabled/);
  });

  it('asks the predictor with the primary key and teaches it from responses', async () => {
    const predictor = new Predictor({ capacity: 8 });
    const storage = storageWith();
    const cache = new HttpCache();
    cache.enable(storage, undefined, predictor);
    const key = new CacheKey('', 'predicted');
    cache.setCacheKey(key);
    expect(cache.cacheablePrediction()).toBe(true);
    expect(await cache.cacheLookup()).toBeUndefined();
    cache.cacheMiss();
    cache.responseBecameUncacheable(NoCacheReason.OriginNotCache);
    expect(cache.phase).toBe('Disabled');
    expect(cache.noCacheReason()).toBe('OriginNotCache');
    expect(predictor.cacheablePrediction(key.primaryHex())).toBe(false);

    const next = new HttpCache();
    next.enable(storage, undefined, predictor);
    next.setCacheKey(new CacheKey('', 'predicted'));
    expect(next.cacheablePrediction()).toBe(false);
    next.bypass();
    next.cacheMiss();
    next.setCacheMeta(meta());
    await next.setMissHandler();
    await next.writeBody(enc.encode('ok now'), true);
    await next.finishMissHandler();
    expect(predictor.cacheablePrediction(key.primaryHex())).toBe(true);
  });

  it('without a predictor every key is predicted cacheable', () => {
    const cache = new HttpCache();
    cache.enable(storageWith());
    cache.setCacheKey(new CacheKey('', 'x'));
    expect(cache.cacheablePrediction()).toBe(true);
    expect(cache.supportStreamingPartialWrite()).toBe(true);
  });
});
