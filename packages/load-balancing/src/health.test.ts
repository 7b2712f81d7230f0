import { describe, expect, it } from 'vitest';
import { Health } from './health.js';

describe('Health', () => {
  it('starts healthy and enabled', () => {
    const h = new Health();
    expect([h.healthy, h.enabled, h.ready, h.consecutiveCounter]).toEqual([true, true, true, 0]);
  });

  it('flips after exactly `threshold` consecutive contrary results, then resets the counter', () => {
    const h = new Health();
    expect(h.observe(false, 3)).toBe(false);
    expect(h.observe(false, 3)).toBe(false);
    expect(h.consecutiveCounter).toBe(2);
    expect(h.observe(false, 3)).toBe(true);
    expect([h.healthy, h.consecutiveCounter]).toEqual([false, 0]);
    expect(h.observe(false, 3)).toBe(false);
    expect(h.observe(true, 2)).toBe(false);
    expect(h.observe(true, 2)).toBe(true);
    expect(h.healthy).toBe(true);
  });

  it('a result matching the state resets the count, so only consecutive ones flip', () => {
    const h = new Health();
    h.observe(false, 2);
    h.observe(true, 2);
    expect(h.consecutiveCounter).toBe(0);
    expect(h.observe(false, 2)).toBe(false);
    expect(h.healthy).toBe(true);
  });

  it('threshold 0 or 1 flips on the first contrary result; disabled is never ready', () => {
    const h = new Health();
    expect(h.observe(false, 0)).toBe(true);
    expect(h.observe(true, 1)).toBe(true);
    h.enabled = false;
    expect(h.ready).toBe(false);
  });
});
