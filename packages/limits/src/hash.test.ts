import { describe, expect, it } from 'vitest';
import { type EstimatorKey, hashKey, LANES, randomSeeds } from './hash.js';

/** Collisions in lane A, lane B and the pair, over `count` keys. */
function collisions(count: number, make: (i: number) => EstimatorKey) {
  const seeds = randomSeeds(2);
  const a = new Set<number>();
  const b = new Set<number>();
  const pairs = new Set<bigint>();
  for (let i = 0; i < count; i++) {
    hashKey(make(i), seeds);
    a.add(LANES[0]!);
    b.add(LANES[1]!);
    pairs.add((BigInt(LANES[0]! >>> 0) << 32n) | BigInt(LANES[1]! >>> 0));
  }
  return { a: count - a.size, b: count - b.size, pair: count - pairs.size };
}

describe('hashKey', () => {
  const n = 100_000;
  // Birthday bound for one 32-bit lane: n^2 / 2^33 ≈ 1.2 collisions; for the pair, ~0.
  it.each<[string, (i: number) => EstimatorKey]>([
    ['sequential strings', (i) => `key-${i}`],
    ['strings differing in one high code unit', (i) => `${String.fromCharCode(i & 0xffff)}x${i >> 16}`],
    ['integers', (i) => i],
    ['integers spaced by 2^16', (i) => i * 65536],
    ['floats', (i) => i / 7],
    ['byte arrays', (i) => Uint8Array.of(i & 255, (i >> 8) & 255, i >> 16, 0, 1)],
  ])('%s: lanes collide no more than random functions would', (_name, make) => {
    const c = collisions(n, make);
    expect(c.pair).toBe(0);
    expect(c.a).toBeLessThan(12);
    expect(c.b).toBeLessThan(12);
  });

  it('depends on the seeds', () => {
    const s1 = Int32Array.of(1, 2);
    const s2 = Int32Array.of(1, 3);
    hashKey('same key', s1);
    const first = [...LANES];
    hashKey('same key', s2);
    expect([...LANES]).not.toEqual(first);
    hashKey('same key', s1);
    expect([...LANES]).toEqual(first);
  });
});
