import { describe, expect, it } from 'vitest';
import { CacheStatus } from './cache-status.js';
import { MemoryCache } from './memory-cache.js';

function manualClock(start = 1000) {
  let now = start;
  return {
    clock: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('MemoryCache (Pingora pingora-memory-cache tests)', () => {
  it('misses an empty cache', () => {
    const cache = new MemoryCache<number, null>(10);
    expect(cache.get(1)).toEqual([undefined, CacheStatus.Miss]);
  });

  it('puts and gets', () => {
    const cache = new MemoryCache<number, number>(10);
    expect(cache.get(1)).toEqual([undefined, CacheStatus.Miss]);
    cache.put(1, 2);
    expect(cache.get(1)).toEqual([2, CacheStatus.Hit]);
  });

  it('puts, gets and removes', () => {
    const cache = new MemoryCache<number, number>(10);
    cache.put(1, 2);
    cache.put(3, 4);
    cache.put(5, 6);
    expect(cache.get(1)).toEqual([2, CacheStatus.Hit]);
    cache.remove(1);
    cache.remove(3);
    expect(cache.get(1)).toEqual([undefined, CacheStatus.Miss]);
    expect(cache.get(3)).toEqual([undefined, CacheStatus.Miss]);
    expect(cache.get(5)).toEqual([6, CacheStatus.Hit]);
  });

  it('reports an entry past its TTL as expired and keeps it', () => {
    const t = manualClock();
    const cache = new MemoryCache<number, number>(10, { clock: t.clock });
    cache.put(1, 2, 1000);
    t.advance(999);
    expect(cache.get(1)).toEqual([2, CacheStatus.Hit]);
    t.advance(1); // expire_on <= now
    expect(cache.get(1)).toEqual([undefined, CacheStatus.Expired]);
    expect(cache.get(1)).toEqual([undefined, CacheStatus.Expired]);
    expect(cache.size).toBe(1);
  });

  it('serves expired entries through getStale with their staleness', () => {
    const t = manualClock();
    const cache = new MemoryCache<number, number>(10, { clock: t.clock });
    cache.put(1, 2, 1000);
    expect(cache.getStale(1)).toEqual([2, CacheStatus.Hit]);
    t.advance(1100);
    const [value, status] = cache.getStale(1);
    expect(value).toBe(2);
    expect(status.kind).toBe('stale');
    expect(status.stale()).toBe(100);
    expect(cache.getStale(9)).toEqual([undefined, CacheStatus.Miss]);
  });

  it('evicts the oldest on forcePut into a full cache', () => {
    const cache = new MemoryCache<number, number>(2);
    cache.forcePut(1, 2);
    cache.forcePut(2, 4);
    cache.forcePut(3, 6);
    expect(cache.get(1)).toEqual([undefined, CacheStatus.Miss]);
    expect(cache.get(2)).toEqual([4, CacheStatus.Hit]);
    expect(cache.get(3)).toEqual([6, CacheStatus.Hit]);
  });

  it('multiGet and multiGetWithMiss', () => {
    const t = manualClock();
    const cache = new MemoryCache<number, number>(10, { clock: t.clock });
    cache.put(2, -2);
    cache.put(4, -4, 10);
    t.advance(10);
    expect(cache.multiGet([1, 2, 3])).toEqual([
      [undefined, CacheStatus.Miss],
      [-2, CacheStatus.Hit],
      [undefined, CacheStatus.Miss],
    ]);
    const [results, missed] = cache.multiGetWithMiss(new Set([1, 2, 3, 4]));
    expect(results.map((r) => r[1].asStr())).toEqual(['miss', 'hit', 'miss', 'expired']);
    expect(missed).toEqual([1, 3, 4]);
  });

  it('accepts string and byte-array keys', () => {
    const cache = new MemoryCache<string | Uint8Array, number>(10);
    expect(cache.get('Hello')).toEqual([undefined, CacheStatus.Miss]);
    cache.put('1', 2);
    cache.put(Uint8Array.of(1), 3);
    expect(cache.get('1')).toEqual([2, CacheStatus.Hit]);
    expect(cache.get(Buffer.from([1]))).toEqual([3, CacheStatus.Hit]);
  });
});

describe('MemoryCache TTLs', () => {
  it('does not store a TTL of 0 or less', () => {
    const cache = new MemoryCache<number, number>(10);
    cache.put(1, 1, 0);
    cache.put(2, 2, -5);
    cache.forcePut(3, 3, 0);
    expect(cache.size).toBe(0);
    expect(cache.get(1)[1]).toBe(CacheStatus.Miss);
  });

  it('never expires without a TTL or with an infinite one', () => {
    const t = manualClock();
    const cache = new MemoryCache<number, number>(10, { clock: t.clock });
    cache.put(1, 1);
    cache.put(2, 2, Number.POSITIVE_INFINITY);
    t.advance(1e12);
    expect(cache.get(1)).toEqual([1, CacheStatus.Hit]);
    expect(cache.get(2)).toEqual([2, CacheStatus.Hit]);
  });

  it('rejects a NaN TTL', () => {
    expect(() => new MemoryCache<number, number>(10).put(1, 1, Number.NaN)).toThrow(RangeError);
  });

  it('replaces the value and the expiry on put', () => {
    const t = manualClock();
    const cache = new MemoryCache<number, string>(10, { clock: t.clock });
    cache.put(1, 'a', 10);
    t.advance(20);
    expect(cache.get(1)[1]).toBe(CacheStatus.Expired);
    cache.put(1, 'b', 10);
    expect(cache.get(1)).toEqual(['b', CacheStatus.Hit]);
  });

  it('uses performance.now() by default', () => {
    const cache = new MemoryCache<number, number>(10);
    cache.put(1, 1, 60_000);
    expect(cache.get(1)).toEqual([1, CacheStatus.Hit]);
  });
});
