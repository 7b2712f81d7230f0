import { describe, expect, it } from 'vitest';
import { FnvAlgorithm, fnv1a64, RoundRobinAlgorithm, type U64, u64LeBytes, u64Mod } from './algorithms.js';

const MASK = (1n << 64n) - 1n;

/** Reference FNV-1a 64 in BigInt. */
function fnvRef(bytes: Uint8Array): bigint {
  let h = 0xcbf29ce484222325n;
  for (const b of bytes) h = ((h ^ BigInt(b)) * 0x100000001b3n) & MASK;
  return h;
}

const big = (v: U64) => (BigInt(v.hi) << 32n) | BigInt(v.lo);

/** Deterministic pseudo-random generator (LCG). */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => (a = (Math.imul(a, 1664525) + 1013904223) >>> 0);
}

describe('FNV-1a 64 in 32-bit halves', () => {
  it('matches the published test values', () => {
    const out = { hi: 0, lo: 0 };
    fnv1a64('', out);
    expect(big(out)).toBe(0xcbf29ce484222325n);
    fnv1a64('a', out);
    expect(big(out)).toBe(0xaf63dc4c8601ec8cn);
    fnv1a64('foobar', out);
    expect(big(out)).toBe(0x85944171f73967e8n);
  });

  it('matches a BigInt reference on 2 000 random byte strings and UTF-8 text', () => {
    const next = rng(7);
    const out = { hi: 0, lo: 0 };
    for (let i = 0; i < 2_000; i++) {
      const bytes = Uint8Array.from({ length: next() % 40 }, () => next() & 0xff);
      fnv1a64(bytes, out);
      expect(big(out)).toBe(fnvRef(bytes));
    }
    for (const s of ['/ünïcödé/路径', 'emoji 🎉 key', 'plain/ascii?q=1']) {
      fnv1a64(s, out);
      expect(big(out)).toBe(fnvRef(new TextEncoder().encode(s)));
    }
  });

  it('the fallback step hashes the index as 8 little-endian bytes', () => {
    const next = rng(11);
    const alg = new FnvAlgorithm();
    for (let i = 0; i < 500; i++) {
      const state = { hi: next(), lo: next() };
      const expected = fnvRef(u64LeBytes(state));
      alg.nextU64(state);
      expect(big(state)).toBe(expected);
    }
  });
});

describe('u64Mod', () => {
  it('is exact for every size of divisor', () => {
    const next = rng(3);
    for (let i = 0; i < 3_000; i++) {
      const hi = next();
      const lo = next();
      const n = [
        1 + (next() % 10),
        1 + (next() % 70_000),
        1 + (next() % 0x7fffffff),
        0x4000000 + (next() % 1000),
      ][i % 4]!;
      expect(u64Mod(hi, lo, n)).toBe(Number(((BigInt(hi) << 32n) | BigInt(lo)) % BigInt(n)));
    }
  });
});

describe('RoundRobinAlgorithm', () => {
  it('counts up from 0 for every call, key or fallback', () => {
    const alg = new RoundRobinAlgorithm();
    const out = { hi: 9, lo: 9 };
    alg.next('x', out);
    expect(out).toEqual({ hi: 0, lo: 0 });
    alg.nextU64(out);
    alg.next('y', out);
    expect(out).toEqual({ hi: 0, lo: 2 });
  });
});
