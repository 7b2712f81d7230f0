import { ErrorType, isPingoraError, PingoraError } from '@pingora-ts/error';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CacheStatus } from './cache-status.js';
import { type LookupResult, RTCache } from './read-through.js';

// Pingora's test callback: the value is how many lookups this `extra` has seen so far.
interface Extra {
  used: { n: number };
  error?: boolean;
  empty?: boolean;
  delayFor?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function testLookup(_key: number, extra: Extra | undefined): Promise<LookupResult<number>> {
  let used = 0;
  if (extra) {
    used = ++extra.used.n;
    if (extra.error) throw PingoraError.newStr('test error');
    if (extra.delayFor !== undefined) await sleep(extra.delayFor);
  }
  return { value: used };
}

function testMultiLookup(keys: number[], extra: Extra | undefined): LookupResult<number>[] {
  if (extra?.empty) return [];
  return keys.map((k) => ({ value: k }));
}

const extra = (o: Partial<Extra> = {}): Extra => ({ used: { n: 0 }, ...o });

function newCache(o: { lockAge?: number; lockTimeout?: number } = {}) {
  return new RTCache<number, number, Extra>(10, {
    ...o,
    clock: () => Date.now(),
    lookup: testLookup,
    multiLookup: testMultiLookup,
  });
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('RTCache (Pingora read_through tests)', () => {
  it('looks up on a miss, then hits', async () => {
    const cache = newCache();
    const opt = extra();
    expect(await cache.get(1, undefined, opt)).toEqual([1, CacheStatus.Miss]);
    expect(await cache.get(1, undefined, opt)).toEqual([1, CacheStatus.Hit]);
    expect(opt.used.n).toBe(1);
  });

  it('wraps a lookup error in a PingoraError with the cause', async () => {
    const cache = newCache();
    const err = await cache.get(-1, undefined, extra({ error: true })).catch((e: unknown) => e);
    expect(isPingoraError(err)).toBe(true);
    const e = err as PingoraError;
    expect(e.type.equals(ErrorType.Custom('RTCache: lookup error'))).toBe(true);
    expect(isPingoraError(e.cause) && e.cause.type.name).toBe('test error');
    expect(String(e)).toBe(' RTCache: lookup error cause:  test error');
  });

  it('coalesces concurrent misses into one lookup; waiters get lock_hit', async () => {
    const cache = newCache();
    const opt = extra({ delayFor: 100 });
    const all = Promise.all([
      cache.get(1, undefined, opt),
      cache.get(1, undefined, opt),
      cache.get(1, undefined, opt),
    ]);
    await vi.advanceTimersByTimeAsync(100);
    expect(await all).toEqual([
      [1, CacheStatus.Miss],
      [1, CacheStatus.LockHit],
      [1, CacheStatus.LockHit],
    ]);
    expect(opt.used.n).toBe(1);
  });

  it('reaches every waiter with an error when the lookups fail', async () => {
    const cache = newCache();
    const opt = extra({ error: true });
    const all = await Promise.allSettled([
      cache.get(-1, undefined, opt),
      cache.get(-1, undefined, opt),
      cache.get(-1, undefined, opt),
    ]);
    for (const r of all) {
      expect(r.status).toBe('rejected');
      const reason = (r as PromiseRejectedResult).reason as PingoraError;
      expect(isPingoraError(reason) && reason.type.name).toBe('RTCache: lookup error');
      expect(isPingoraError(reason.cause)).toBe(true);
    }
    // The writer failed, so each waiter woke up, found nothing and tried itself (as in Pingora).
    expect(opt.used.n).toBe(3);
  });

  it('does not coalesce different keys', async () => {
    const cache = newCache();
    const opt = extra({ delayFor: 10 });
    const all = Promise.all([
      cache.get(1, undefined, opt),
      cache.get(3, undefined, opt),
      cache.get(5, undefined, opt),
    ]);
    await vi.advanceTimersByTimeAsync(10);
    const values = (await all).map(([v]) => v);
    expect(values.sort()).toEqual([1, 2, 3]);
  });

  it('ignores a lock older than lockAge: late callers look up themselves and do not store', async () => {
    const cache = newCache({ lockAge: 1000 });
    const used = { n: 0 };
    const t1 = cache.get(1, undefined, { used, delayFor: 2000 });
    await vi.advanceTimersByTimeAsync(1500);
    const [r2, r3] = await Promise.all([
      cache.get(1, undefined, { used }),
      cache.get(1, undefined, { used }),
    ]);
    expect([r2[1], r3[1]]).toEqual([CacheStatus.Miss, CacheStatus.Miss]);
    await vi.advanceTimersByTimeAsync(500);
    const r1 = await t1;
    expect(r1[0] + r2[0] + r3[0]).toBe(6);
    // Only the lock holder stored its result.
    expect(await cache.get(1, undefined, { used })).toEqual([r1[0], CacheStatus.Hit]);
  });

  it('a lock exactly lockAge old is still honoured', async () => {
    const cache = newCache({ lockAge: 1000 });
    const used = { n: 0 };
    const t1 = cache.get(1, undefined, { used, delayFor: 2000 });
    await vi.advanceTimersByTimeAsync(1000);
    const t2 = cache.get(1, undefined, { used });
    await vi.advanceTimersByTimeAsync(1000);
    expect(await t1).toEqual([1, CacheStatus.Miss]);
    expect(await t2).toEqual([1, CacheStatus.LockHit]);
  });

  it('bounds a waiter by lockTimeout, after which it looks up itself without storing', async () => {
    const cache = newCache({ lockTimeout: 1000 });
    const used = { n: 0 };
    const t1 = cache.get(1, undefined, { used, delayFor: 2000 });
    const t2 = cache.get(1, undefined, { used });
    const t3 = cache.get(1, undefined, { used });
    await vi.advanceTimersByTimeAsync(999);
    expect(used.n).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(used.n).toBe(3);
    const [r2, r3] = await Promise.all([t2, t3]);
    expect([r2[1], r3[1]]).toEqual([CacheStatus.Miss, CacheStatus.Miss]);
    await vi.advanceTimersByTimeAsync(1000);
    const r1 = await t1;
    expect(r1[0] + r2[0] + r3[0]).toBe(6);
    expect((await cache.get(1, undefined, { used }))[0]).toBe(1);
  });

  it('multiGet: hits from the cache, misses from one multiLookup, then all hits', async () => {
    const cache = newCache();
    const opt = extra();
    expect(await cache.get(1, undefined, opt)).toEqual([1, CacheStatus.Miss]);
    expect(await cache.get(1, undefined, opt)).toEqual([1, CacheStatus.Hit]);
    expect(await cache.multiGet([1, 2, 3], undefined, opt)).toEqual([
      [1, CacheStatus.Hit],
      [2, CacheStatus.Miss],
      [3, CacheStatus.Miss],
    ]);
    expect(await cache.multiGet([1, 2, 3], undefined, opt)).toEqual([
      [1, CacheStatus.Hit],
      [2, CacheStatus.Hit],
      [3, CacheStatus.Hit],
    ]);
  });

  it('multiGet fails when multiLookup returns the wrong number of results', async () => {
    const cache = newCache();
    const err = await cache.multiGet([4, 5, 6], undefined, extra({ empty: true })).catch((e: unknown) => e);
    expect(isPingoraError(err)).toBe(true);
    expect(String(err)).toBe(' RTCache: lookup error context: multiLookup() returned 0 results for 3 keys');
  });
});

describe('RTCache TTLs and stale serving', () => {
  it('stores with the lookup TTL, which overrides the default', async () => {
    const cache = new RTCache<string, string>(10, {
      clock: () => Date.now(),
      lookup: (k) => (k === 'short' ? { value: 'v', ttl: 100 } : { value: 'v' }),
    });
    await cache.get('short', 10_000);
    await cache.get('default', 10_000);
    await vi.advanceTimersByTimeAsync(150);
    expect((await cache.get('short', 10_000))[1]).toBe(CacheStatus.Expired);
    expect((await cache.get('default', 10_000))[1]).toBe(CacheStatus.Hit);
  });

  it('getStale serves a value up to staleTtl past expiry, then looks up', async () => {
    const cache = newCache();
    const opt = extra();
    expect(await cache.get(1, 100, opt)).toEqual([1, CacheStatus.Miss]);
    expect(await cache.get(1, 100, opt)).toEqual([1, CacheStatus.Hit]);
    await vi.advanceTimersByTimeAsync(150);
    const [v, status] = await cache.getStale(1, 1000, 100, opt);
    expect(v).toBe(1);
    expect(status.stale()).toBe(50);
    expect(await cache.getStale(1, 30, 100, opt)).toEqual([2, CacheStatus.Expired]);
    expect(await cache.getStale(1, 30, 100, opt)).toEqual([2, CacheStatus.Hit]);
  });

  it('getStaleWhileUpdate serves stale and refreshes in the background', async () => {
    const cache = newCache();
    const opt = extra();
    await cache.get(1, 100, opt);
    await vi.advanceTimersByTimeAsync(150);
    const [v, status] = await cache.getStaleWhileUpdate(1, 1000, 100, opt);
    expect([v, status.kind]).toEqual([1, 'stale']);
    await vi.advanceTimersByTimeAsync(10);
    expect(await cache.get(1, 100, opt)).toEqual([2, CacheStatus.Hit]);
  });

  it('getStaleWhileUpdate swallows a failing background refresh', async () => {
    const used = { n: 0 };
    const cache = newCache();
    await cache.get(1, 100, { used });
    await vi.advanceTimersByTimeAsync(150);
    const result = await cache.getStaleWhileUpdate(1, 1000, 100, { used, error: true });
    expect(result[0]).toBe(1);
    await vi.advanceTimersByTimeAsync(10);
    expect(used.n).toBe(2);
    expect((await cache.getStale(1, 1000))[0]).toBe(1);
  });

  it('multiGet reports expired entries as misses and refetches them', async () => {
    const cache = newCache();
    await cache.multiGet([7, 8], 100);
    await vi.advanceTimersByTimeAsync(100);
    expect(await cache.multiGet([7, 8], 100)).toEqual([
      [7, CacheStatus.Miss],
      [8, CacheStatus.Miss],
    ]);
  });
});

describe('RTCache edge cases', () => {
  it('a waiter whose writer stored nothing looks up and stores itself', async () => {
    let calls = 0;
    const cache = new RTCache<string, number>(10, {
      clock: () => Date.now(),
      // The first lookup answers with a TTL of 0, which MemoryCache does not store.
      lookup: async () => {
        calls++;
        await sleep(10);
        return calls === 1 ? { value: calls, ttl: 0 } : { value: calls };
      },
    });
    const a = cache.get('k');
    const b = cache.get('k');
    await vi.advanceTimersByTimeAsync(20);
    expect(await a).toEqual([1, CacheStatus.Miss]);
    expect(await b).toEqual([2, CacheStatus.Miss]);
    expect(await cache.get('k')).toEqual([2, CacheStatus.Hit]);
  });

  it('releases the lock when the lookup throws synchronously', async () => {
    let fail = true;
    const cache = new RTCache<string, string>(10, {
      lookup: () => {
        if (fail) throw new Error('sync boom');
        return { value: 'ok' };
      },
    });
    await expect(cache.get('k')).rejects.toSatisfy(
      (e) => isPingoraError(e) && (e.cause as Error).message === 'sync boom',
    );
    fail = false;
    expect(await cache.get('k')).toEqual(['ok', CacheStatus.Miss]);
  });

  it('coalesces byte-array keys by content', async () => {
    let calls = 0;
    const cache = new RTCache<Uint8Array | string, number>(10, {
      lookup: async () => {
        await sleep(5);
        return { value: ++calls };
      },
    });
    const all = Promise.all([
      cache.get(Uint8Array.of(1, 2)),
      cache.get(Buffer.from([1, 2])),
      cache.get('\u0001\u0002'),
    ]);
    await vi.advanceTimersByTimeAsync(5);
    const results = await all;
    expect(results.map((r) => r[1].kind)).toEqual(['miss', 'lock_hit', 'miss']);
    expect(calls).toBe(2);
  });

  it('works with only a multiLookup (get looks up one key through it)', async () => {
    const seen: number[][] = [];
    const cache = new RTCache<number, string>(10, {
      multiLookup: (keys) => {
        seen.push(keys);
        return keys.map((k) => ({ value: `v${k}` }));
      },
    });
    expect(await cache.get(3)).toEqual(['v3', CacheStatus.Miss]);
    expect(await cache.multiGet([3, 4])).toEqual([
      ['v3', CacheStatus.Hit],
      ['v4', CacheStatus.Miss],
    ]);
    expect(seen).toEqual([[3], [4]]);
  });

  it('works with only a lookup (multiGet looks misses up one by one, concurrently)', async () => {
    const cache = new RTCache<number, number>(10, { lookup: (k) => ({ value: k * 10 }) });
    expect(await cache.multiGet([1, 2])).toEqual([
      [10, CacheStatus.Miss],
      [20, CacheStatus.Miss],
    ]);
  });

  it('passes extra to the lookup and binds class-based lookups', async () => {
    class Db {
      prefix = 'user:';
      lookup(key: number, extra: string | undefined) {
        return { value: `${this.prefix}${key}:${extra}` };
      }
    }
    const cache = new RTCache<number, string, string>(10, new Db());
    expect(await cache.get(1, undefined, 'x')).toEqual(['user:1:x', CacheStatus.Miss]);
  });

  it('rejects a lookup that returns something other than { value }', async () => {
    const cache = new RTCache<string, string>(10, { lookup: () => 'oops' as never });
    await expect(cache.get('k')).rejects.toSatisfy((e) => isPingoraError(e) && e.cause instanceof TypeError);
  });

  it('requires a lookup or a multiLookup', () => {
    expect(() => new RTCache(10, {} as never)).toThrow(TypeError);
  });

  it('remove drops a cached value', async () => {
    let n = 0;
    const cache = new RTCache<string, number>(10, { lookup: () => ({ value: ++n }) });
    await cache.get('k');
    cache.remove('k');
    expect(await cache.get('k')).toEqual([2, CacheStatus.Miss]);
  });
});
