import { describe, expect, it } from 'vitest';
import { Inflight } from './inflight.js';

describe('Inflight', () => {
  it("Pingora's inflight_count: guards give their share back", () => {
    const inflight = new Inflight();
    const [g1, v1] = inflight.incr('a', 1);
    expect(v1).toBe(1);
    const [g2, v2] = inflight.incr('a', 2);
    expect(v2).toBe(3);

    g1.release();
    expect(g2.get()).toBe(2);

    g2.release();
    const [, v3] = inflight.incr('a', 1);
    expect(v3).toBe(1);
  });

  it('releases on scope exit with `using`, also when the block throws', () => {
    const inflight = new Inflight();
    {
      using g = inflight.acquire('app');
      expect(g.count).toBe(1);
      using h = inflight.acquire('app', 4);
      expect(h.count).toBe(5);
      expect(g.get()).toBe(5);
    }
    expect(inflight.incr('app', 0)[1]).toBe(0);

    const fail = () => {
      using g = inflight.acquire('app', 3);
      expect(g.get()).toBe(3);
      throw new Error('boom');
    };
    expect(fail).toThrow('boom');
    expect(inflight.incr('app', 0)[1]).toBe(0);
  });

  it('disposes the guard half of a destructured incr', () => {
    const inflight = new Inflight();
    let seen = -1;
    {
      const [guard, count] = inflight.incr('k');
      using _ = guard;
      seen = count;
      expect(guard.released).toBe(false);
    }
    expect(seen).toBe(1);
    expect(inflight.acquire('k', 0).count).toBe(0);
  });

  it('release is idempotent and takes back every guard.incr()', () => {
    const inflight = new Inflight();
    const [other] = inflight.incr('x', 1);
    const [g, v] = inflight.incr('x', 2);
    expect(v).toBe(3);
    expect(g.incr()).toBe(5);
    expect(g.incr()).toBe(7);
    g.release();
    expect(g.released).toBe(true);
    expect(other.get()).toBe(1);
    g.release();
    g[Symbol.dispose]();
    expect(other.get()).toBe(1);
    expect(() => g.incr()).toThrow(TypeError);
    expect(other.get()).toBe(1);
    other.release();
    expect(other.get()).toBe(0);
  });

  it('keeps the hash, so a byte key mutated after incr releases the right count', () => {
    const inflight = new Inflight();
    const key = Uint8Array.of(1, 2, 3);
    const [g] = inflight.incr(key, 1);
    key[0] = 9;
    g.release();
    expect(inflight.acquire(Uint8Array.of(1, 2, 3), 0).count).toBe(0);
  });

  it('keeps keys apart and takes a sketch size', () => {
    // With random seeds two of the 50 keys share both rows in about 0.7 % of runs.
    const inflight = new Inflight({ hashes: 2, slots: 4096, seed: 1 });
    for (let i = 0; i < 50; i++) inflight.incr(`k${i}`, i + 1);
    for (let i = 0; i < 50; i++) expect(inflight.acquire(`k${i}`, 0).count).toBe(i + 1);
    expect(() => new Inflight({ slots: 0 })).toThrow(RangeError);
    expect(() => inflight.incr('a', 0.5)).toThrow(RangeError);
  });

  it('places keys the same way for the same seed', () => {
    const counts = (seed: number) => {
      const inflight = new Inflight({ hashes: 1, slots: 8, seed });
      for (let i = 0; i < 20; i++) inflight.incr(`k${i}`);
      return Array.from({ length: 20 }, (_, i) => inflight.acquire(`k${i}`, 0).count);
    };
    expect(counts(7)).toEqual(counts(7));
    expect(counts(8)).not.toEqual(counts(7));
    // 20 keys in 8 slots always collide; exact counts would mean the seed did nothing.
    expect(counts(7).some((c) => c > 1)).toBe(true);
  });
});
