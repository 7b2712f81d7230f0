import { ResponseHeader } from '@pingora-ts/http';
import { describe, expect, it } from 'vitest';
import { LruEvictionManager } from '../eviction/lru.js';
import { CacheKey } from '../key.js';
import { CacheLock } from '../lock/cache-lock.js';
import { CacheMeta } from '../meta.js';
import { Predictor } from '../predictor.js';
import { MemoryStorage } from '../storage/memory.js';
import { HttpCache } from './index.js';

const NOW = Date.UTC(2026, 11, 2, 12);
const enc = new TextEncoder();

function storageWith(maxFileSize?: number): MemoryStorage<CacheMeta> {
  return new MemoryStorage<CacheMeta>({
    // The storage's own manager never evicts here; the cache's manager (given to enable) does.
    eviction: new LruEvictionManager({ maxBytes: 1 << 30 }),
    freshUntil: (m) => m.freshUntil,
    ...(maxFileSize === undefined ? {} : { maxFileSize }),
  });
}

function meta(headers: Record<string, string> = {}): CacheMeta {
  const header = ResponseHeader.build(200);
  for (const [k, v] of Object.entries(headers)) header.insertHeader(k, v);
  return new CacheMeta({
    freshUntil: NOW + 60_000,
    created: NOW,
    staleWhileRevalidateSec: 0,
    staleIfErrorSec: 0,
    header,
  });
}

interface Setup {
  storage: MemoryStorage<CacheMeta>;
  eviction?: LruEvictionManager;
  predictor?: Predictor;
  lock?: CacheLock;
}

async function missFor(path: string, s: Setup, maxFileSize?: number): Promise<HttpCache> {
  const cache = new HttpCache();
  cache.enable(s.storage, s.eviction, s.predictor, s.lock);
  if (maxFileSize !== undefined) cache.setMaxFileSizeBytes(maxFileSize);
  cache.setCacheKey(new CacheKey('', path));
  expect(await cache.cacheLookup()).toBeUndefined();
  cache.cacheMiss();
  return cache;
}

describe('HttpCache miss writing and max file size', () => {
  it('refuses a response whose Content-Length is over the max file size, without storing it', async () => {
    const storage = storageWith();
    const predictor = new Predictor({ capacity: 8 });
    const lock = new CacheLock({ ageTimeoutMs: 60_000 });
    const cache = await missFor('big', { storage, predictor, lock }, 10);
    expect(cache.maxFileSizeBytes()).toBe(10);
    const reader = new HttpCache();
    reader.enable(storage, undefined, undefined, lock);
    reader.setCacheKey(new CacheKey('', 'big'));
    await reader.cacheLookup();
    const wait = reader.cacheLockWait();

    cache.setCacheMeta(meta({ 'content-length': '11' }));
    expect(await cache.setMissHandler()).toBe(false);
    expect(cache.phase).toBe('Disabled');
    expect(cache.noCacheReason()).toBe('ResponseTooLarge');
    expect(cache.missHandlerActive()).toBe(false);
    expect(await storage.lookup(cache.cacheKey().toCompact())).toBeUndefined();
    expect(predictor.cacheablePrediction(cache.cacheKey().primaryHex())).toBe(false);
    expect(await wait).toBe('GiveUp');
    expect(await cache.writeBody(enc.encode('01234567890'), true)).toBe(false);
  });

  it('accepts a Content-Length equal to the max file size', async () => {
    const storage = storageWith();
    const cache = await missFor('exact', { storage }, 5);
    cache.setCacheMeta(meta({ 'content-length': '5' }));
    expect(await cache.setMissHandler()).toBe(true);
    expect(await cache.writeBody(enc.encode('12345'), true)).toBe(true);
    await cache.finishMissHandler();
    expect(storage.storedItems()).toBe(1);
  });

  it('stops caching a streamed body once it outgrows the max file size, and keeps going', async () => {
    const storage = storageWith();
    const predictor = new Predictor({ capacity: 8 });
    const cache = await missFor('chunked', { storage, predictor }, 8);
    cache.setCacheMeta(meta());
    expect(await cache.setMissHandler()).toBe(true);
    expect(await cache.writeBody(enc.encode('12345'), false)).toBe(true);
    expect(cache.missHandlerActive()).toBe(true);
    expect(await cache.writeBody(enc.encode('6789'), false)).toBe(false);
    expect(cache.phase).toBe('Disabled');
    expect(cache.noCacheReason()).toBe('ResponseTooLarge');
    expect(await cache.writeBody(enc.encode('0'), true)).toBe(false);
    await cache.finishMissHandler();
    expect(storage.storedItems()).toBe(0);
    expect(await storage.lookup(cache.cacheKey().toCompact())).toBeUndefined();
    expect(predictor.cacheablePrediction(cache.cacheKey().primaryHex())).toBe(false);
  });

  it("turns the storage's own ResponseTooLarge into a disabled cache, not an error", async () => {
    const storage = storageWith(4);
    const cache = await missFor('storage-limit', { storage });
    cache.setCacheMeta(meta());
    await cache.setMissHandler();
    expect(await cache.writeBody(enc.encode('abc'), false)).toBe(true);
    expect(await cache.writeBody(enc.encode('de'), true)).toBe(false);
    expect(cache.noCacheReason()).toBe('ResponseTooLarge');
    expect(storage.storedItems()).toBe(0);
    expect(storage.inflightSize()).toBe(0);
  });

  it('refuses max file size changes on a disabled cache and bad sizes', () => {
    const cache = new HttpCache();
    expect(() => cache.setMaxFileSizeBytes(10)).toThrow(/phase Disabled/);
    cache.enable(storageWith());
    expect(() => cache.setMaxFileSizeBytes(-1)).toThrow(RangeError);
    expect(cache.maxFileSizeBytes()).toBeUndefined();
  });

  it('admits stored assets to the eviction manager and purges what it evicts from storage', async () => {
    const storage = storageWith();
    const eviction = new LruEvictionManager({ maxBytes: 10 });
    const setup = { storage, eviction };
    const keyOf = (path: string) => new CacheKey('', path).toCompact();
    for (const [path, body] of [
      ['one', '1111'],
      ['two', '2222'],
    ] as const) {
      const cache = await missFor(path, setup);
      cache.setCacheMeta(meta());
      await cache.setMissHandler();
      await cache.writeBody(enc.encode(body), true);
      await cache.finishMissHandler();
      await cache.finishMissHandler(); // a second finish is a no-op
    }
    expect(eviction.totalSize()).toBe(8);
    expect(await storage.lookup(keyOf('one'))).toBeDefined();

    const third = await missFor('three', setup);
    third.setCacheMeta(meta());
    await third.setMissHandler();
    await third.writeBody(enc.encode('3333'), true);
    await third.finishMissHandler();
    expect(eviction.totalSize()).toBe(8);
    expect(eviction.evictedItems()).toBe(1);
    expect(await storage.lookup(keyOf('one'))).toBeUndefined();
    expect(await storage.lookup(keyOf('two'))).toBeDefined();
    expect(await storage.lookup(keyOf('three'))).toBeDefined();
  });

  it('releases the lock Done at finish when the storage cannot stream a write in progress', async () => {
    // A real memory storage that tells the cache it cannot serve a body still being written.
    class WholeBodyStorage extends MemoryStorage<CacheMeta> {
      override supportStreamingPartialWrite(): boolean {
        return false;
      }
    }
    const storage = new WholeBodyStorage({ eviction: new LruEvictionManager({ maxBytes: 1 << 20 }) });
    const lock = new CacheLock({ ageTimeoutMs: 60_000 });
    const cache = await missFor('no-stream', { storage, lock });
    cache.setCacheMeta(meta());
    await cache.setMissHandler();
    expect(cache.isCacheLockWriter()).toBe(true);
    await cache.writeBody(enc.encode('x'), true);
    await cache.finishMissHandler();
    expect(cache.isCacheLockWriter()).toBe(false);
    expect(lock.size).toBe(0);
  });
});
