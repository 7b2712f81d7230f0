import { describe, expect, it } from 'vitest';
import { impls, isNativeEnabled, nativeRequired } from '../test/impls.js';
import { coreOf, queueOf, TinyUfo, type TinyUfoOptions } from './tiny-ufo.js';

// Pingora's scenario tests (tinyufo/src/lib.rs) fix the hash seeds; so do these.
const SEED = 2345;

describe.each(impls)('TinyUfo ($name core)', ({ name, native, skip }) => {
  const make = (limit: number, est: number, o: TinyUfoOptions = {}) =>
    new TinyUfo<number, number>(limit, est, { seed: SEED, native, ...o });
  const compact = (limit: number, est: number) =>
    TinyUfo.compact<number, number>(limit, est, { seed: SEED, native });
  const filled = (factory = make) => {
    const cache = factory(5, 5);
    cache.put(1, 1, 1);
    cache.put(2, 2, 2);
    cache.put(3, 3, 2);
    return cache;
  };
  const data = (evicted: { data: number }[]) => evicted.map((e) => e.data);

  it.skipIf(skip)('runs on the requested core', () => {
    if (native && nativeRequired()) expect(isNativeEnabled()).toBe(true);
    expect(make(5, 5).native).toBe(native);
  });

  for (const [label, factory] of [
    ['', make],
    [' (compact)', compact],
  ] as const) {
    it.skipIf(skip)(`evicts from small in FIFO order${label}`, () => {
      const cache = filled(factory);
      expect([1, 2, 3].map((k) => queueOf(cache, k))).toEqual(['small', 'small', 'small']);
      const evicted = cache.put(4, 4, 3);
      expect(data(evicted)).toEqual([1, 2]);
      expect(evicted.map((e) => e.key)).toEqual([1, 2]);
      expect(queueOf(cache, 1)).toBeUndefined();
      expect(queueOf(cache, 2)).toBeUndefined();
      expect(queueOf(cache, 3)).toBe('small');
      expect(cache.weight).toBe(5);
      expect(cache.size).toBe(2);
    });

    it.skipIf(skip)(`moves an item read twice from small to main${label}`, () => {
      const cache = filled(factory);
      cache.get(1);
      cache.get(1);
      expect(queueOf(cache, 1)).toBe('small');
      const evicted = cache.put(4, 4, 2);
      expect(evicted).toHaveLength(1);
      expect(evicted[0]!.weight).toBe(2);
      expect(queueOf(cache, 1)).toBe('main');
      const gone = evicted[0]!.data;
      expect([2, 3, 4]).toContain(gone);
      expect(queueOf(cache, gone)).toBeUndefined();
      for (const k of [2, 3, 4].filter((k) => k !== gone)) expect(queueOf(cache, k)).toBe('small');
    });
  }

  it.skipIf(skip)('re-admits an evicted key, evicting the next in small', () => {
    const cache = filled();
    expect(data(cache.put(4, 4, 1))).toEqual([1]);
    expect([1, 2, 3, 4].map((k) => queueOf(cache, k))).toEqual([undefined, 'small', 'small', 'small']);
    expect(data(cache.put(1, 1, 1))).toEqual([2]);
    expect([1, 2, 3, 4].map((k) => queueOf(cache, k))).toEqual(['small', undefined, 'small', 'small']);
  });

  it.skipIf(skip)('refuses a newcomer less popular than the one item it would evict', () => {
    const cache = filled();
    // Putting again bumps the sketch frequencies of 1, 2 and 3.
    cache.put(1, 1, 1);
    cache.put(2, 2, 2);
    cache.put(3, 3, 2);
    const evicted = cache.put(4, 4, 1);
    expect(evicted).toEqual([{ key: 4, data: 4, weight: 1 }]);
    expect([1, 2, 3, 4].map((k) => queueOf(cache, k))).toEqual(['small', 'small', 'small', undefined]);
    expect(cache.get(4)).toBeUndefined();
  });

  it.skipIf(skip)('forcePut admits regardless of popularity', () => {
    const cache = filled();
    cache.put(1, 1, 1);
    cache.put(2, 2, 2);
    cache.put(3, 3, 2);
    expect(data(cache.forcePut(4, 4, 1))).toEqual([1]);
    expect([1, 2, 3, 4].map((k) => queueOf(cache, k))).toEqual([undefined, 'small', 'small', 'small']);
    expect(cache.get(4)).toBe(4);
  });

  it.skipIf(skip)('evicts from main once everything was promoted', () => {
    const cache = filled();
    for (const k of [1, 1, 2, 2, 3, 3]) cache.get(k);
    expect(data(cache.put(4, 4, 1))).toEqual([1]);
    expect([1, 2, 3, 4].map((k) => queueOf(cache, k))).toEqual([undefined, 'main', 'main', 'small']);
    expect(data(cache.put(1, 1, 1))).toEqual([4]);
    expect([1, 2, 3, 4].map((k) => queueOf(cache, k))).toEqual(['small', 'main', 'main', undefined]);
  });

  it.skipIf(skip)('removes items and keeps the weight bounded afterwards', () => {
    const cache = filled();
    expect(cache.remove(1)).toBe(1);
    expect(cache.remove(3)).toBe(3);
    expect(cache.remove(3)).toBeUndefined();
    expect(cache.get(1)).toBeUndefined();
    expect(cache.get(3)).toBeUndefined();
    expect(cache.weight).toBe(2);
    cache.put(5, 5, 2);
    cache.put(6, 6, 2);
    cache.put(7, 7, 2);
    expect(cache.get(1)).toBeUndefined();
    expect(cache.get(3)).toBeUndefined();
    expect([5, 6, 7].some((k) => cache.get(k) !== undefined)).toBe(true);
    expect(cache.weight).toBeLessThanOrEqual(5);
  });

  it.skipIf(skip)('caps uses at 3: ten reads protect an item no longer than three', () => {
    const evictionOrder = (reads: number) => {
      const cache = make(3, 3);
      cache.put(0, 0);
      for (let i = 0; i < reads; i++) cache.get(0);
      for (const k of [1, 2]) {
        cache.put(k, k);
        cache.get(k);
        cache.get(k);
      }
      const order: number[] = [];
      for (let k = 10; k < 20; k++) order.push(...cache.forcePut(k, k).map((e) => e.key));
      return order;
    };
    expect(evictionOrder(10)).toEqual(evictionOrder(3));
    // With uses 2 the item runs out of second chances first; with 3 another item goes first.
    expect(evictionOrder(2)[0]).toBe(0);
    expect(evictionOrder(3)[0]).toBe(1);
  });

  it.skipIf(skip)('replaces the value and weight of an existing key', () => {
    const cache = make(10, 10);
    cache.put(1, 1, 3);
    expect(cache.put(1, 11, 5)).toEqual([]);
    expect(cache.get(1)).toBe(11);
    expect(cache.weight).toBe(5);
    expect(cache.size).toBe(1);
    // Growing past the limit evicts; here the item itself is the only candidate (as in Pingora).
    expect(cache.put(1, 12, 11)).toEqual([{ key: 1, data: 12, weight: 11 }]);
    expect(cache.size).toBe(0);
    expect(cache.weight).toBe(0);
  });

  it.skipIf(skip)('returns every victim when one put evicts many', () => {
    const cache = make(100, 100);
    for (let k = 0; k < 100; k++) cache.put(k, k);
    const evicted = cache.forcePut(1000, 1000, 100);
    // Small gives up items only while it holds its share (floor(100 × 0.1) + 1 = 11) and main is
    // empty, so eviction stops with 10 items left and the cache goes over budget: Pingora's
    // evict_to_limit does exactly this.
    expect(evicted.map((e) => e.key)).toEqual(Array.from({ length: 90 }, (_, k) => k));
    expect(cache.size).toBe(11);
    expect(cache.weight).toBe(110);
    const heavy = cache.forcePut(2000, 2000, 500);
    expect(heavy.map((e) => e.key)).toEqual([...Array.from({ length: 10 }, (_, k) => 90 + k), 1000]);
    expect(cache.get(2000)).toBe(2000);
    expect(cache.weight).toBe(500);
  });

  it.skipIf(skip)('accepts string, bigint and byte-array keys, bytes by content', () => {
    const cache = new TinyUfo<string | bigint | number | Uint8Array, string>(100, 100, { native });
    cache.put('k', 'string');
    cache.put(7n, 'bigint');
    cache.put(7, 'number');
    cache.put(new Uint8Array([1, 2, 3]), 'bytes');
    cache.put(Buffer.from('k'), 'buffer');
    expect(cache.get('k')).toBe('string');
    expect(cache.get(7n)).toBe('bigint');
    expect(cache.get(7)).toBe('number');
    expect(cache.get(Uint8Array.of(1, 2, 3))).toBe('bytes');
    expect(cache.get(new Uint8Array([107]))).toBe('buffer');
    expect(cache.get(new Uint8Array(300))).toBeUndefined();
    expect(cache.remove(Buffer.from([1, 2, 3]))).toBe('bytes');
    expect(cache.get(Uint8Array.of(1, 2, 3))).toBeUndefined();
    expect(cache.size).toBe(4);
  });

  it.skipIf(skip)('evicts keys of another kind than the one being put', () => {
    const cache = new TinyUfo<string | Uint8Array, number>(2, 2, { native, seed: SEED });
    cache.forcePut(Uint8Array.of(9), 1);
    cache.forcePut('a', 2);
    const evicted = cache.forcePut('b', 3);
    expect(evicted.map((e) => e.key)).toEqual([Uint8Array.of(9)]);
    expect(cache.get(Uint8Array.of(9))).toBeUndefined();
    expect(cache.size).toBe(2);
  });

  it.skipIf(skip)('rejects bad weights and sizes', () => {
    const cache = make(10, 10);
    for (const w of [0, -1, 1.5, Number.NaN, 2 ** 32]) {
      expect(() => cache.put(1, 1, w)).toThrow(RangeError);
    }
    expect(cache.size).toBe(0);
    expect(() => make(-1, 10)).toThrow(RangeError);
    expect(() => make(10, 1.5)).toThrow(RangeError);
  });

  it.skipIf(skip)('grows past its initial capacity and stays within the limit', () => {
    const cache = TinyUfo.compact<number, number>(5000, 5000, { native, seed: SEED });
    for (let i = 0; i < 20_000; i++) {
      if (cache.get(i % 7000) === undefined) cache.put(i % 7000, i);
    }
    expect(cache.size).toBeGreaterThan(4000);
    expect(cache.weight).toBeLessThanOrEqual(5000);
  });

  it.skipIf(skip)('reclaims removed slots when the cache never fills', () => {
    const cache = make(1_000_000, 1000);
    for (let i = 0; i < 50_000; i++) {
      cache.put(i, i);
      if (i % 10 !== 0) cache.remove(i);
    }
    expect(cache.size).toBe(5000);
    expect(cache.get(49_990)).toBe(49_990);
    expect(cache.get(49_991)).toBeUndefined();
    // Tombstones are compacted away, so the queues hold about the live items only.
    expect(coreOf(cache).byteLength()).toBeLessThan(1_000_000);
  });

  it.skipIf(skip || name === 'ts')('reports its native memory', () => {
    expect(coreOf(make(100, 100)).byteLength()).toBeGreaterThan(0);
  });
});

describe('TinyUfo options', () => {
  it('throws when the native core is requested but unavailable or disabled', () => {
    if (isNativeEnabled()) {
      expect(new TinyUfo(1, 1, { native: true }).native).toBe(true);
    } else {
      expect(() => new TinyUfo(1, 1, { native: true })).toThrow(/native core is not available/);
    }
  });

  it('defaults to the TypeScript core', () => {
    expect(new TinyUfo(1, 1).native).toBe(false);
  });
});
