import { describe, expect, it } from 'vitest';
import { reduce, Sketch } from './sketch.js';

describe('Sketch internals', () => {
  it('maps every 32-bit hash into [0, slots), including the extremes', () => {
    const hashes = [0, 1, 0x7fffffff, -0x80000000, -2, -1];
    for (const slots of [1, 3, 250, 1000, 50_021, 2 ** 31 - 1]) {
      for (const h of hashes) {
        const j = reduce(h, slots, -1);
        expect(Number.isInteger(j) && j >= 0 && j < slots).toBe(true);
      }
      // Multiply-shift keeps order: the largest hash lands in the last slot.
      expect(reduce(-1, slots, -1)).toBe(slots - 1);
      expect(reduce(0, slots, -1)).toBe(0);
    }
    for (const h of hashes) expect(reduce(h, 1024, 1023)).toBe(h & 1023);
  });

  it('chooses the mask only for powers of two', () => {
    expect(new Sketch(1, 1024).mask).toBe(1023);
    expect(new Sketch(1, 1).mask).toBe(0);
    expect(new Sketch(1, 1000).mask).toBe(-1);
  });
});
