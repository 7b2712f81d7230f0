import { ResponseHeader } from '@pingora-ts/http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LruEvictionManager } from '../eviction/lru.js';
import { CacheKey } from '../key.js';
import { CacheLock } from '../lock/cache-lock.js';
import type { LockStatus } from '../lock/status.js';
import { CacheMeta } from '../meta.js';
import { MemoryStorage } from '../storage/memory.js';
import { type CacheOptionOverrides, HttpCache } from './index.js';
import { readAll } from '../../test/read-all.js';

const enc = new TextEncoder();
const PATH = 'example.com/locked';

function storageWith(): MemoryStorage<CacheMeta> {
  return new MemoryStorage<CacheMeta>({
    eviction: new LruEvictionManager({ maxBytes: 1 << 30 }),
    freshUntil: (m) => m.freshUntil,
  });
}

function meta(): CacheMeta {
  const now = Date.now();
  return new CacheMeta({
    freshUntil: now + 60_000,
    created: now,
    staleWhileRevalidateSec: 0,
    staleIfErrorSec: 0,
    header: ResponseHeader.build(200),
  });
}

function request(
  storage: MemoryStorage<CacheMeta>,
  lock: CacheLock,
  overrides?: CacheOptionOverrides,
): HttpCache {
  const cache = new HttpCache();
  cache.enable(storage, undefined, undefined, lock, overrides);
  cache.setCacheKey(new CacheKey('', PATH));
  return cache;
}

/** Records a promise's value when it settles, so a test can check it is still pending. */
function track<T>(promise: Promise<T>): { value: T | undefined } {
  const state: { value: T | undefined } = { value: undefined };
  void promise.then((v) => {
    state.value = v;
  });
  return state;
}

async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

/** Pingora's proxy loop, up to the point where the request goes upstream or serves a hit. */
async function lookupLoop(cache: HttpCache): Promise<'hit' | 'upstream'> {
  for (;;) {
    const found = await cache.cacheLookup();
    if (found !== undefined) {
      cache.cacheFound(found.meta, found.hit, 'Fresh');
      return 'hit';
    }
    if (!cache.isCacheLocked()) {
      cache.cacheMiss();
      return 'upstream';
    }
    const status: LockStatus = await cache.cacheLockWait();
    if (status === 'GiveUp') {
      cache.disable('CacheLockGiveUp');
      return 'upstream';
    }
    if (status === 'WaitTimeout') {
      cache.disable('CacheLockTimeout');
      return 'upstream';
    }
  }
}

afterEach(() => {
  vi.useRealTimers();
});

describe('HttpCache with a cache lock', () => {
  it('lets one writer fetch while readers wait, then serves the readers from the cache', async () => {
    const storage = storageWith();
    const lock = new CacheLock({ ageTimeoutMs: 60_000 });
    const writer = request(storage, lock);
    expect(await writer.cacheLookup()).toBeUndefined();
    expect(writer.isCacheLockWriter()).toBe(true);
    expect(writer.isCacheLocked()).toBe(false);

    const readers = Array.from({ length: 4 }, () => request(storage, lock));
    const outcomes = readers.map((r) => track(lookupLoop(r)));
    await flush();
    expect(readers.every((r) => r.phase === 'CacheKey')).toBe(true);
    expect(outcomes.every((o) => o.value === undefined)).toBe(true);

    writer.cacheMiss();
    writer.setCacheMeta(meta());
    await writer.setMissHandler();
    // The memory storage streams a write in progress, so the lock is released as the write opens.
    expect(writer.isCacheLockWriter()).toBe(false);
    expect(lock.size).toBe(0);
    await writer.writeBody(enc.encode('shared '), false);
    await vi.waitFor(() => expect(outcomes.every((o) => o.value === 'hit')).toBe(true), { timeout: 10_000 });
    const bodies = readers.map((r) => readAll(r.hitHandler()));
    await writer.writeBody(enc.encode('body'), true);
    await writer.finishMissHandler();
    expect(await Promise.all(bodies)).toEqual(Array(4).fill('shared body'));
    expect(readers.every((r) => (r.lockDuration() ?? -1) >= 0)).toBe(true);
    expect(readers.every((r) => r.phase === 'Hit')).toBe(true);
  });

  it('hands the write lock to one waiting reader when the writer fails', async () => {
    const storage = storageWith();
    const lock = new CacheLock({ ageTimeoutMs: 60_000 });
    const writer = request(storage, lock);
    await writer.cacheLookup();
    const first = request(storage, lock);
    const second = request(storage, lock);
    await first.cacheLookup();
    await second.cacheLookup();
    const firstWait = track(first.cacheLockWait());
    const secondWait = track(second.cacheLockWait());
    await flush();

    writer.cacheMiss();
    writer.disable('UpstreamError');
    await vi.waitFor(() => expect(firstWait.value).toBe('TransientError'), { timeout: 10_000 });
    expect(first.isCacheLockWriter()).toBe(true);
    expect(secondWait.value).toBeUndefined();

    // The elected reader looks up again and, still missing, keeps its permit rather than queueing.
    expect(await first.cacheLookup()).toBeUndefined();
    expect(first.isCacheLockWriter()).toBe(true);
    first.cacheMiss();
    first.setCacheMeta(meta());
    await first.setMissHandler();
    await vi.waitFor(() => expect(secondWait.value).toBe('Done'), { timeout: 10_000 });
    await first.writeBody(enc.encode('second try'), true);
    await first.finishMissHandler();
    const found = await second.cacheLookup();
    second.cacheFound(found!.meta, found!.hit, 'Fresh');
    expect(await readAll(second.hitHandler())).toBe('second try');
    expect(lock.size).toBe(0);
  });

  it('sends every reader upstream when the writer finds the response uncacheable', async () => {
    const storage = storageWith();
    const lock = new CacheLock({ ageTimeoutMs: 60_000 });
    const writer = request(storage, lock);
    await writer.cacheLookup();
    const readers = [request(storage, lock), request(storage, lock)];
    const outcomes = readers.map((r) => lookupLoop(r));
    await flush();
    writer.cacheMiss();
    writer.responseBecameUncacheable('OriginNotCache');
    expect(await Promise.all(outcomes)).toEqual(['upstream', 'upstream']);
    expect(readers.map((r) => r.noCacheReason())).toEqual(['CacheLockGiveUp', 'CacheLockGiveUp']);
    expect(lock.size).toBe(0);
  });

  it('gives up waiting after the override waitTimeoutMs, counted across waits', async () => {
    vi.useFakeTimers();
    const storage = storageWith();
    const lock = new CacheLock({ ageTimeoutMs: 60_000 });
    const writer = request(storage, lock);
    await writer.cacheLookup();
    const reader = request(storage, lock, { waitTimeoutMs: 1000 });
    await reader.cacheLookup();
    const status = track(reader.cacheLockWait());
    await vi.advanceTimersByTimeAsync(999);
    expect(status.value).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(status.value).toBe('WaitTimeout');
    expect(reader.lockDuration()).toBe(1000);
    expect(reader.isCacheLocked()).toBe(false);
    // The writer is not disturbed by its reader leaving.
    expect(writer.isCacheLockWriter()).toBe(true);
    writer.disable('InternalError');
    expect(lock.size).toBe(0);
  });

  it('counts the wait timeout across every wait of the request', async () => {
    vi.useFakeTimers();
    const storage = storageWith();
    const lock = new CacheLock({ ageTimeoutMs: 60_000 });
    const writer = request(storage, lock);
    await writer.cacheLookup();
    const reader = request(storage, lock, { waitTimeoutMs: 1000 });
    await reader.cacheLookup();
    const firstWait = track(reader.cacheLockWait());
    await vi.advanceTimersByTimeAsync(600);
    writer.takeWriteLock().unlock('Dangling');
    await vi.advanceTimersByTimeAsync(0);
    expect(firstWait.value).toBe('Dangling');
    // Someone else takes the key before this reader looks again: it waits on the new writer.
    const writer2 = request(storage, lock);
    await writer2.cacheLookup();
    expect(writer2.isCacheLockWriter()).toBe(true);
    expect(await reader.cacheLookup()).toBeUndefined();
    expect(reader.isCacheLocked()).toBe(true);
    const secondWait = track(reader.cacheLockWait());
    await vi.advanceTimersByTimeAsync(399);
    expect(secondWait.value).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(secondWait.value).toBe('WaitTimeout');
    expect(reader.lockDuration()).toBe(1000);
    writer2.disable('InternalError');
  });

  it('cancels a reader whose client went away; it is never elected writer', async () => {
    const storage = storageWith();
    const lock = new CacheLock({ ageTimeoutMs: 60_000 });
    const writer = request(storage, lock);
    await writer.cacheLookup();
    const gone = request(storage, lock);
    const staying = request(storage, lock);
    await gone.cacheLookup();
    await staying.cacheLookup();
    const goneWait = gone.cacheLockWait();
    const stayingWait = track(staying.cacheLockWait());
    await flush();
    expect(gone.cancelLockWait()).toBe(true);
    expect(await goneWait).toBe('WaitTimeout');
    expect(gone.cancelLockWait()).toBe(false);
    writer.disable('UpstreamError');
    await vi.waitFor(() => expect(stayingWait.value).toBe('TransientError'), { timeout: 10_000 });
    expect(staying.isCacheLockWriter()).toBe(true);
    expect(gone.isCacheLockWriter()).toBe(false);
    staying.disable('UpstreamError');
    expect(lock.size).toBe(0);
  });

  it('passes the permit on when a reader is disabled after being elected', async () => {
    const storage = storageWith();
    const lock = new CacheLock({ ageTimeoutMs: 60_000 });
    const writer = request(storage, lock);
    await writer.cacheLookup();
    const elected = request(storage, lock);
    const next = request(storage, lock);
    await elected.cacheLookup();
    await next.cacheLookup();
    const electedWait = elected.cacheLockWait();
    const nextWait = track(next.cacheLockWait());
    await flush();
    writer.disable('UpstreamError');
    // Disabled before its wait's continuation runs: the permit it was handed must not be lost.
    elected.disable('InternalError');
    expect(await electedWait).toBe('TransientError');
    expect(elected.isCacheLockWriter()).toBe(false);
    await vi.waitFor(() => expect(nextWait.value).toBe('TransientError'), { timeout: 10_000 });
    expect(next.isCacheLockWriter()).toBe(true);
    next.releaseWriteLock('OriginNotCache');
    expect(next.isCacheLockWriter()).toBe(false);
    expect(lock.size).toBe(0);
  });

  it('lets go of an elected permit when the next lookup finds the asset after all', async () => {
    const storage = storageWith();
    const lock = new CacheLock({ ageTimeoutMs: 60_000 });
    const writer = request(storage, lock);
    await writer.cacheLookup();
    const elected = request(storage, lock);
    const behind = request(storage, lock);
    await elected.cacheLookup();
    await behind.cacheLookup();
    const electedWait = elected.cacheLockWait();
    const behindWait = track(behind.cacheLockWait());
    await flush();
    writer.disable('UpstreamError');
    expect(await electedWait).toBe('TransientError');

    // A request that does not use the lock stores the asset meanwhile.
    const unlocked = new HttpCache();
    unlocked.enable(storage);
    unlocked.setCacheKey(new CacheKey('', PATH));
    expect(await lookupLoop(unlocked)).toBe('upstream');
    unlocked.setCacheMeta(meta());
    await unlocked.setMissHandler();
    await unlocked.writeBody(enc.encode('from elsewhere'), true);
    await unlocked.finishMissHandler();

    expect(await lookupLoop(elected)).toBe('hit');
    expect(elected.isCacheLockWriter()).toBe(false);
    await vi.waitFor(() => expect(behindWait.value).toBe('Done'), { timeout: 10_000 });
    expect(lock.size).toBe(0);
  });

  it('takes no lock for a lookup that ends after the request was disabled', async () => {
    const storage = storageWith();
    const lock = new CacheLock({ ageTimeoutMs: 60_000 });
    const cache = request(storage, lock);
    const pending = cache.cacheLookup();
    cache.disable('InternalError');
    expect(await pending).toBeUndefined();
    expect(lock.size).toBe(0);
    expect(cache.isCacheLockWriter()).toBe(false);
  });

  it('ends a held write lock Dangling when the request is disposed', async () => {
    const storage = storageWith();
    const lock = new CacheLock({ ageTimeoutMs: 60_000 });
    let waiting: Promise<LockStatus> | undefined;
    {
      using writer = request(storage, lock);
      await writer.cacheLookup();
      writer.cacheMiss();
      writer.setCacheMeta(meta());
      const reader = request(storage, lock);
      await reader.cacheLookup();
      waiting = reader.cacheLockWait();
      expect(writer.isCacheLockWriter()).toBe(true);
    }
    expect(await waiting).toBe('Dangling');
    expect(lock.size).toBe(0);
  });

  it('bypassing after the lookup releases the write lock for the next request', async () => {
    const storage = storageWith();
    const lock = new CacheLock({ ageTimeoutMs: 60_000 });
    const writer = request(storage, lock);
    await writer.cacheLookup();
    const reader = request(storage, lock);
    await reader.cacheLookup();
    const wait = reader.cacheLockWait();
    writer.cacheMiss();
    writer.bypass();
    expect(writer.phase).toBe('Bypass');
    expect(await wait).toBe('TransientError');
    expect(reader.isCacheLockWriter()).toBe(true);
    reader.disable('UpstreamError');
    expect(lock.size).toBe(0);
  });

  it('refuses to wait without a read lock and to replace a held lock', async () => {
    const storage = storageWith();
    const lock = new CacheLock({ ageTimeoutMs: 60_000 });
    const writer = request(storage, lock);
    await expect(writer.cacheLockWait()).rejects.toThrow(
      /cacheLockWait\(\) is not allowed in phase CacheKey/,
    );
    await writer.cacheLookup();
    expect(() => writer.setCacheLock(undefined)).toThrow(/while a lock is held/);
    const permit = writer.takeWriteLock();
    expect(writer.isCacheLockWriter()).toBe(false);
    expect(permit.hashKey).toBe(new CacheKey('', PATH).combinedHex());
    writer.setWriteLock(permit);
    expect(writer.isCacheLockWriter()).toBe(true);
    const lockless = new HttpCache();
    lockless.enable(storage);
    expect(() => lockless.setWriteLock(permit)).toThrow(/no cache lock/);
    writer.disable('DeclinedToUpstream');
    expect(permit.status).toBe('TransientError');
  });
});
