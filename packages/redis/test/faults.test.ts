import { CacheKey, CacheMeta, purgeResponse } from '@pingora-ts/cache';
import { memoryLogger, waitFor } from '@pingora-ts/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisCacheLock, RedisLink, RedisRate, RedisStorage } from '../src/index.js';
import { redisAvailable, TestRedis } from './redis-server.js';

const run = redisAvailable();
let redis: TestRedis | undefined;
let lock: RedisCacheLock | undefined;

afterEach(async () => {
  lock?.close();
  await redis?.close();
});

// Generous against a busy machine, yet far below anything a client would notice as a hang.
const QUICK_MS = 3_000;

async function timed<T>(call: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await call();
  return { value, ms: performance.now() - start };
}

function meta(): CacheMeta {
  const now = Date.now();
  return new CacheMeta({
    freshUntil: now + 60_000,
    created: now,
    staleWhileRevalidateSec: 0,
    staleIfErrorSec: 0,
    header: purgeResponse('Found'),
  });
}

async function setup() {
  redis = await TestRedis.start();
  const logger = memoryLogger();
  const link = new RedisLink(await redis.readyClient(), { logger, timeoutMs: 300, retryIntervalMs: 100 });
  const storage = new RedisStorage(link);
  lock = new RedisCacheLock(link, { ageTimeoutMs: 5_000 });
  const local = new RedisRate(link, { intervalMs: 60_000, fallback: 'local', fallbackScale: 2 });
  const closed = new RedisRate(link, { intervalMs: 60_000, fallback: 'closed' });
  const open = new RedisRate(link, { intervalMs: 60_000, fallback: 'open' });
  const key = new CacheKey('', '/fault', '').toCompact();
  const miss = await storage.getMissHandler(key, meta());
  await miss.writeBody(Buffer.from('cached'), true);
  await miss.finish();
  expect(await storage.lookup(key)).toBeDefined();
  expect(await local.observe('a')).toBe(1);
  const lines = () => logger.lines.filter((l) => l.msg.startsWith('redis:'));
  return { link, storage, lock, local, closed, open, key, lines };
}

describe.runIf(run)('Redis outage', () => {
  it('falls back at once when Redis stops, logs it once, and recovers by itself', async () => {
    const s = await setup();
    await redis!.stop();
    for (let i = 0; i < 5; i++) {
      const lookup = await timed(() => s.storage.lookup(s.key));
      expect(lookup.value).toBeUndefined();
      expect(lookup.ms).toBeLessThan(QUICK_MS);
    }
    // A miss while down: the body is not stored, and nothing fails.
    const miss = await s.storage.getMissHandler(s.key, meta());
    await miss.writeBody(Buffer.from('not stored'), true);
    expect(await miss.finish()).toBe(10);
    // No lock: each request fetches on its own rather than queueing behind an invisible writer.
    expect(s.lock.lock(s.key.hashKey).kind).toBe('write');
    expect(s.lock.lock(s.key.hashKey).kind).toBe('write');
    // Rate limits on the fallbacks the user chose.
    expect(await s.local.observe('a')).toBe(2);
    expect(await s.local.observe('a')).toBe(4);
    expect(await s.closed.observe('a')).toBe(Number.POSITIVE_INFINITY);
    expect(await s.open.observe('a')).toBe(0);
    expect(s.lines().map((l) => l.level)).toEqual(['warn']);
    expect(s.lines()[0]!.msg).toMatch(/unreachable/);

    await redis!.restart();
    await waitFor(
      async () => {
        await s.local.observe('b');
        return s.link.available;
      },
      { message: 'the link to recover' },
    );
    expect(s.lines().map((l) => l.level)).toEqual(['warn', 'info']);
    expect(s.lines()[1]!.msg).toMatch(/reachable again/);
    // Back on Redis: counts are shared again (the restarted server starts empty), the lock is
    // decided in Redis, and the cache stores.
    expect(await s.local.observe('c')).toBe(1);
    expect(s.lock.lock('recovered').kind).toBe('read');
    const again = await s.storage.getMissHandler(s.key, meta());
    await again.writeBody(Buffer.from('stored again'), true);
    await again.finish();
    expect(await s.storage.lookup(s.key)).toBeDefined();
  });

  it('bounds every call by its deadline when Redis hangs', async () => {
    const s = await setup();
    redis!.pause();
    try {
      const calls = await Promise.all([
        timed(() => s.storage.lookup(s.key)),
        timed(() => s.local.observe('a')),
        timed(() => s.storage.lookup(s.key)),
      ]);
      expect(calls.map((c) => c.value)).toEqual([undefined, 2, undefined]);
      for (const c of calls) expect(c.ms).toBeLessThan(QUICK_MS);
      // Further calls do not wait for the deadline again: the link fails fast until a probe.
      const fast = await timed(() => s.storage.lookup(s.key));
      expect(fast.value).toBeUndefined();
      expect(s.lines().map((l) => l.level)).toEqual(['warn']);
    } finally {
      redis!.resume();
    }
    await waitFor(
      async () => {
        await s.storage.lookup(s.key);
        return s.link.available;
      },
      { message: 'the link to recover' },
    );
    expect(await s.storage.lookup(s.key)).toBeDefined();
    expect(s.lines().map((l) => l.level)).toEqual(['warn', 'info']);
  });
});
