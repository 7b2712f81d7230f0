import { mulberry32 as prng } from '@pingora-ts/test-utils';
import { describe, expect, it } from 'vitest';
import { Estimator } from './estimator.js';

describe('Estimator', () => {
  it("Pingora's incr: returns the new minimum", () => {
    const est = new Estimator(8, 8, { seed: 7 });
    expect(est.incr('a', 1)).toBe(1);
    expect(est.incr('b', 1)).toBe(1);
    expect(est.incr('a', 2)).toBe(3);
    expect(est.incr('b', 2)).toBe(3);
  });

  it("Pingora's desc: decr lowers the count", () => {
    const est = new Estimator(8, 8, { seed: 7 });
    est.incr('a', 3);
    est.incr('b', 3);
    est.decr('a', 1);
    est.decr('b', 1);
    expect(est.get('a')).toBe(2);
    expect(est.get('b')).toBe(2);
  });

  it("Pingora's get, plus reset and the default count of 1", () => {
    const est = new Estimator(8, 8, { seed: 7 });
    est.incr('a', 1);
    est.incr('a', 2);
    est.incr('b');
    est.incr('b', 2);
    expect(est.get('a')).toBe(3);
    expect(est.get('b')).toBe(3);
    est.reset();
    expect(est.get('a')).toBe(0);
    expect(est.incr('a')).toBe(1);
    expect([est.hashes, est.slots]).toEqual([8, 8]);
  });

  it('keeps strings, numbers and byte arrays apart; folds 0/-0 and NaNs like Map', () => {
    const est = new Estimator(4, 1 << 16, { seed: 7 });
    est.incr('a', 1);
    est.incr(97, 10);
    est.incr(Uint8Array.of(97), 100);
    expect([est.get('a'), est.get(97), est.get(Uint8Array.of(97))]).toEqual([1, 10, 100]);

    est.incr(0, 1);
    est.incr(-0, 1);
    expect(est.get(0)).toBe(2);
    est.incr(Number.NaN, 1);
    est.incr(0 / 0, 1);
    expect(est.get(Number.NaN)).toBe(2);

    est.incr(1.5, 7);
    est.incr(2 ** 40, 8);
    est.incr(Number.POSITIVE_INFINITY, 9);
    expect([est.get(1.5), est.get(2 ** 40), est.get(Number.POSITIVE_INFINITY)]).toEqual([7, 8, 9]);

    // Same bytes, any container: a Buffer, a subarray view, another typed array over the bytes.
    est.incr(Buffer.from('hello'), 5);
    const backing = Uint8Array.from([0, ...Buffer.from('hello'), 0]);
    expect(est.get(backing.subarray(1, 6))).toBe(5);
    expect(est.get(new DataView(backing.buffer, 1, 5) as unknown as Uint8Array)).toBe(5);
    // A trailing NUL is a different key, for strings and bytes alike.
    expect(est.get('a\0')).toBe(0);
    expect(est.get(Buffer.from('hello\0'))).toBe(0);
    expect(est.get('')).toBe(0);
    expect(est.get(new Uint8Array(0))).toBe(0);
  });

  it('never under-counts, and is exact when the sketch is roomy (differential vs Map)', () => {
    const rnd = prng(42);
    const exact = new Map<string, number>();
    // 250 is not a power of two (multiply-shift slots); 1 << 16 is (masked slots).
    const small = new Estimator(4, 250, { seed: 7 });
    const roomy = new Estimator(4, 1 << 16, { seed: 7 });
    const roomyOdd = new Estimator(3, 50_021, { seed: 7 });
    let total = 0;
    for (let i = 0; i < 20_000; i++) {
      // Zipf-ish: key ids concentrate near 0.
      const id = Math.floor(1000 ** rnd()) - 1;
      const key = `client-${id}`;
      const n = 1 + Math.floor(rnd() * 3);
      total += n;
      exact.set(key, (exact.get(key) ?? 0) + n);
      expect(small.incr(key, n)).toBeGreaterThanOrEqual(exact.get(key)!);
      roomy.incr(key, n);
      roomyOdd.incr(key, n);
    }
    let overBound = 0;
    for (const [key, count] of exact) {
      expect(roomy.get(key)).toBe(count);
      expect(roomyOdd.get(key)).toBe(count);
      const estimate = small.get(key);
      expect(estimate).toBeGreaterThanOrEqual(count);
      if (estimate - count > (2 * total) / 250) overBound++;
    }
    // Theory: P(error > 2N/w) <= 2^-hashes = 6.25 %; a decent hash does far better.
    expect(overBound / exact.size).toBeLessThan(0.0625);
  });

  it.each([2048, 2000])('spreads sequential keys like a random function (%i slots)', (n) => {
    // About 1/e of n keys in n slots sit alone in theirs.
    const kinds: Array<(i: number) => string | number | Uint8Array> = [
      (i) => `key-${i}`,
      (i) => i,
      (i) => i * 4096,
      (i) => i + 0.5,
      (i) => Uint8Array.of(i & 255, i >> 8),
    ];
    for (const make of kinds) {
      const est = new Estimator(1, n, { seed: 7 });
      for (let i = 0; i < n; i++) est.incr(make(i), 1);
      let alone = 0;
      for (let i = 0; i < n; i++) if (est.get(make(i)) === 1) alone++;
      // Expected (1 - 1/n)^(n - 1) ≈ 0.368 with standard deviation ≈ 0.011 here.
      expect(alone / n).toBeGreaterThan(0.32);
      expect(alone / n).toBeLessThan(0.42);
    }
  });

  it('takes a seed: the same seed shares counters the same way, no seed draws fresh ones', () => {
    const fill = (est: Estimator) => {
      for (let i = 0; i < 64; i++) est.incr(`k${i}`);
      return Array.from({ length: 64 }, (_, i) => est.get(`k${i}`));
    };
    expect(fill(new Estimator(1, 16, { seed: 3 }))).toEqual(fill(new Estimator(1, 16, { seed: 3 })));
    expect(fill(new Estimator(1, 16, { seed: 3 }))).not.toEqual(fill(new Estimator(1, 16, { seed: 4 })));
  });

  it('counts exactly up to 2^53 and accepts negative counts', () => {
    const est = new Estimator(2, 64, { seed: 7 });
    expect(est.incr('big', 2 ** 52)).toBe(2 ** 52);
    expect(est.incr('big', 2 ** 52 - 1)).toBe(Number.MAX_SAFE_INTEGER);
    expect(est.incr('neg', -5)).toBe(-5);
    est.decr('neg', -5);
    expect(est.get('neg')).toBe(0);
  });

  it('rejects bad dimensions, counts and keys with TypeError / RangeError', () => {
    expect(() => new Estimator(0, 8)).toThrow(RangeError);
    expect(() => new Estimator(4, 1.5)).toThrow(RangeError);
    expect(() => new Estimator(4, -1)).toThrow(RangeError);
    expect(() => new Estimator('4' as unknown as number, 8)).toThrow(TypeError);
    const est = new Estimator(2, 8, { seed: 7 });
    expect(() => est.incr('a', 1.5)).toThrow(RangeError);
    expect(() => est.incr('a', 2 ** 53)).toThrow(RangeError);
    expect(() => est.decr('a', Number.NaN)).toThrow(RangeError);
    expect(() => est.incr('a', '1' as unknown as number)).toThrow(TypeError);
    expect(() => est.incr({} as unknown as string)).toThrow(/got Object/);
    expect(() => est.get(null as unknown as string)).toThrow(TypeError);
    expect(() => est.get(1n as unknown as number)).toThrow(/got bigint/);
    expect(est.get('a')).toBe(0);
  });
});
