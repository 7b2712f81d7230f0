import { describe, expect, it } from 'vitest';
import { impls } from '../test/impls.js';
import { KeyHasher } from './hash.js';
import { sketchParams } from './sketch.js';
import { smallWeightLimit } from './core.js';
import { coreOf, TinyUfo } from './tiny-ufo.js';

describe('sketchParams (Pingora optimal_paras)', () => {
  it.each([
    [1_000_000, 2_718_282, 20],
    [10_000, 27_183, 14],
    [5, 16, 3],
    [1, 16, 2],
    [0, 16, 2],
  ])('%i items → %i slots × %i rows', (items, slots, rows) => {
    expect(sketchParams(items)).toEqual({ slots, rows });
  });
});

describe('smallWeightLimit', () => {
  it('is floor(limit × 0.1) + 1 in f32, as Pingora computes it', () => {
    expect(smallWeightLimit(5)).toBe(1);
    expect(smallWeightLimit(10)).toBe(2);
    expect(smallWeightLimit(10_000)).toBe(1001);
    // 2^24 + 1 is not representable in f32 and rounds down to 2^24 before the multiply.
    expect(smallWeightLimit(2 ** 24 + 1)).toBe(Math.floor(Math.fround(2 ** 24 * Math.fround(0.1))) + 1);
  });
});

describe.each(impls)('TinyLFU sketch ($name core)', ({ native, skip }) => {
  const setup = (size: number) => {
    const core = coreOf(new TinyUfo(size, size, { seed: 42, native }));
    const hasher = new KeyHasher(42);
    const h = (k: number): [number, number] => [hasher.hash(k), hasher.b];
    return {
      incr: (k: number) => core.sketchIncr(...h(k)),
      get: (k: number) => core.sketchGet(...h(k)),
    };
  };

  it.skipIf(skip)(
    'counts, and halves everything after cache_size × 8 increments (Pingora test_tiny_lfu)',
    () => {
      const tiny = setup(1);
      expect(tiny.get(1)).toBe(0);
      expect(tiny.incr(1)).toBe(1);
      expect(tiny.incr(1)).toBe(2);
      expect(tiny.get(1)).toBe(2);
      const two = tiny.get(2);
      expect(tiny.incr(2)).toBe(two + 1);
      expect(tiny.incr(2)).toBe(two + 2);
      expect(tiny.get(2)).toBe(two + 2);
      const three = tiny.get(3);
      for (let i = 1; i <= 4; i++) expect(tiny.incr(3)).toBe(three + i);
      // Eight increments: the next one ages first.
      expect(tiny.incr(3)).toBeGreaterThanOrEqual(3);
      expect(tiny.incr(1)).toBeGreaterThanOrEqual(2);
      expect(tiny.incr(2)).toBeGreaterThanOrEqual(2);
    },
  );

  it.skipIf(skip)('ages exactly on the (limit + 1)-th increment', () => {
    const s = setup(10); // window limit 80
    for (let i = 1; i <= 80; i++) expect(s.incr(7)).toBe(i);
    expect(s.incr(7)).toBe(41); // halved to 40, then counted
    expect(s.get(7)).toBe(41);
  });

  it.skipIf(skip)('saturates at 255', () => {
    const s = setup(1000); // window limit 8000
    let last = 0;
    for (let i = 0; i < 300; i++) last = s.incr(9);
    expect(last).toBe(255);
    expect(s.get(9)).toBe(255);
  });
});
