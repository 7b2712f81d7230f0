import { describe, expect, it } from 'vitest';
import { bytesMapKey, fmix32, KeyHasher, type TinyUfoKey } from './hash.js';

const h64 = (hasher: KeyHasher, k: TinyUfoKey) => {
  const a = hasher.hash(k);
  return `${a}:${hasher.b}`;
};

describe('KeyHasher', () => {
  it('is deterministic for a seed and changes with the seed', () => {
    const x = new KeyHasher(1);
    const y = new KeyHasher(1);
    const z = new KeyHasher(2);
    for (const k of [0, 1, 'a', 'hello world', Uint8Array.of(1, 2, 3), 5n]) {
      expect(h64(x, k)).toBe(h64(y, k));
      expect(h64(x, k)).not.toBe(h64(z, k));
    }
  });

  it('hashes byte arrays by content, whatever the view', () => {
    const h = new KeyHasher(3);
    const backing = Uint8Array.of(9, 1, 2, 3, 4, 5, 9);
    expect(h64(h, backing.subarray(1, 6))).toBe(h64(h, Uint8Array.of(1, 2, 3, 4, 5)));
    expect(h64(h, Buffer.from([1, 2, 3, 4, 5]))).toBe(h64(h, Uint8Array.of(1, 2, 3, 4, 5)));
    expect(h64(h, Uint8Array.of(1, 2, 3, 4, 5))).not.toBe(h64(h, Uint8Array.of(1, 2, 3, 4, 5, 0)));
  });

  it('distinguishes close keys of every kind', () => {
    const h = new KeyHasher(4);
    const keys: TinyUfoKey[] = [
      '',
      'ab',
      'ba',
      'a\u0000',
      '\u{1F600}',
      0,
      1,
      -1,
      1.5,
      2 ** 40,
      -(2 ** 40),
      2 ** 60,
    ];
    keys.push(Number.NaN, Number.POSITIVE_INFINITY, 1n, 1n << 64n, new Uint8Array(0), Uint8Array.of(0));
    const seen = new Set(keys.map((k) => h64(h, k)));
    expect(seen.size).toBe(keys.length);
    expect(h64(h, -0)).toBe(h64(h, 0));
  });

  it('spreads sequential integers and strings evenly, without 64-bit collisions', () => {
    const h = new KeyHasher(5);
    for (const make of [(i: number) => i, (i: number) => `key:${i}`]) {
      const buckets = new Array<number>(256).fill(0);
      const seen = new Set<string>();
      const n = 100_000;
      for (let i = 0; i < n; i++) {
        const a = h.hash(make(i));
        buckets[a >>> 24]!++;
        seen.add(`${a}:${h.b}`);
      }
      expect(seen.size).toBe(n);
      // Chi-square with 255 degrees of freedom: 99.9th percentile is about 330.
      const expected = n / 256;
      const chi2 = buckets.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
      expect(chi2).toBeLessThan(330);
    }
  });
});

describe('fmix32', () => {
  it('is murmur3 fmix32', () => {
    expect(fmix32(0)).toBe(0);
    expect(fmix32(1) >>> 0).toBe(0x514e28b7);
  });
});

describe('bytesMapKey', () => {
  it('is one latin1 character per byte, for short and long arrays', () => {
    expect(bytesMapKey(Uint8Array.of(104, 105, 255))).toBe('hi\u00ff');
    const long = new Uint8Array(20_000).map((_, i) => i & 255);
    const key = bytesMapKey(long);
    expect(key.length).toBe(20_000);
    expect(key.charCodeAt(19_999)).toBe(19_999 & 255);
    expect(bytesMapKey(Uint8Array.of(1, 2))).not.toBe(bytesMapKey(Uint8Array.of(1, 2, 0)));
  });
});
