import { mulberry32 as prng } from '@pingora-ts/test-utils';
import { describe, expect, it } from 'vitest';
import { impls, nativeRequired } from '../test/impls.js';
import { ModelUfo } from '../test/model.js';
import type { TinyUfoKey } from './hash.js';
import { coreOf, TinyUfo } from './tiny-ufo.js';

type Op =
  | { op: 'get' | 'remove'; key: TinyUfoKey }
  | { op: 'put' | 'forcePut'; key: TinyUfoKey; value: number; weight: number };

/** Skewed keys of every kind, weights mostly 1, every operation. */
function randomOps(seed: number, count: number, universe: number, removeRate = 0.07): Op[] {
  const rnd = prng(seed);
  const key = (): TinyUfoKey => {
    // Squaring skews towards small ids, so some keys are hot and admission matters.
    const id = Math.floor(rnd() * rnd() * universe);
    switch (id % 4) {
      case 0:
        return id;
      case 1:
        return `k${id}`;
      case 2:
        return Uint8Array.of(id & 255, id >> 8, 7);
      default:
        return BigInt(id) << 40n;
    }
  };
  const ops: Op[] = [];
  for (let i = 0; i < count; i++) {
    const r = rnd();
    if (r < 0.5 - removeRate / 2) ops.push({ op: 'get', key: key() });
    else if (r < 0.85 - removeRate / 2)
      ops.push({ op: 'put', key: key(), value: i, weight: rnd() < 0.8 ? 1 : 1 + Math.floor(rnd() * 6) });
    else if (r < 1 - removeRate)
      ops.push({ op: 'forcePut', key: key(), value: i, weight: 1 + Math.floor(rnd() * 3) });
    else ops.push({ op: 'remove', key: key() });
  }
  return ops;
}

interface Cache {
  get(k: TinyUfoKey): number | undefined;
  remove(k: TinyUfoKey): number | undefined;
  size: number;
  weight: number;
}

/** Runs `ops`, returning a trace of every observable result. */
function trace(
  cache: Cache,
  put: (k: TinyUfoKey, v: number, w: number, force: boolean) => unknown[],
  ops: Op[],
): unknown[] {
  const t: unknown[] = [];
  for (const o of ops) {
    if (o.op === 'put' || o.op === 'forcePut') t.push(put(o.key, o.value, o.weight, o.op === 'forcePut'));
    else if (o.op === 'get') t.push(cache.get(o.key));
    else t.push(cache.remove(o.key));
    t.push(cache.size, cache.weight);
  }
  return t;
}

const CASES = [
  { seed: 1, limit: 40, est: 40, compact: false, universe: 160, removeRate: 0.07 },
  { seed: 2, limit: 200, est: 150, compact: false, universe: 800, removeRate: 0.07 },
  { seed: 3, limit: 64, est: 1000, compact: true, universe: 256, removeRate: 0.07 },
  { seed: 4, limit: 7, est: 7, compact: false, universe: 28, removeRate: 0.07 },
  // Never full and remove-heavy: tombstones pile up and get compacted.
  { seed: 5, limit: 100_000, est: 100, compact: false, universe: 400, removeRate: 0.4 },
];

describe.each(impls)(
  'TinyUfo ($name core) matches a plain model of Pingora’s algorithm',
  ({ native, skip }) => {
    it.skipIf(skip).each(CASES)('seed $seed, limit $limit, compact $compact', (c) => {
      const { seed, limit, est, compact } = c;
      const ops = randomOps(seed, 30_000, c.universe, c.removeRate);
      const cache = new TinyUfo<TinyUfoKey, number>(limit, est, { seed, native, compact });
      const model = new ModelUfo<number>(limit, est, seed, compact);
      const got = trace(cache, (k, v, w, f) => (f ? cache.forcePut(k, v, w) : cache.put(k, v, w)), ops);
      const want = trace(model, (k, v, w, f) => model.put(k, v, w, f), ops);
      expect(got.length).toBe(want.length);
      if (limit < 1000) {
        // The TinyLFU refusal (a put returning its own key) must have been exercised.
        const refused = ops.filter(
          (o, i) => o.op === 'put' && (got[3 * i] as { key: unknown }[]).some((e) => e.key === o.key),
        );
        expect(refused.length).toBeGreaterThan(0);
      }
      // Compare in chunks so a mismatch points at the operation, not at a 100k-element diff.
      for (let i = 0; i < got.length; i += 3) {
        expect(got.slice(i, i + 3), `operation ${i / 3}: ${JSON.stringify(ops[i / 3], replacer)}`).toEqual(
          want.slice(i, i + 3),
        );
      }
    });
  },
);

describe.skipIf(!nativeRequired())('native core equals the TypeScript core', () => {
  it.each([11, 12, 13, 14, 15])('random operations, seed %i', (seed) => {
    const rnd = prng(seed);
    const limit = 1 + Math.floor(rnd() * 300);
    const est = Math.floor(rnd() * 2000);
    const compact = rnd() < 0.3;
    const ops = randomOps(seed, 40_000, 1 + limit * 3);
    const ts = new TinyUfo<TinyUfoKey, number>(limit, est, { seed, compact, native: false });
    const cpp = new TinyUfo<TinyUfoKey, number>(limit, est, { seed, compact, native: true });
    expect(cpp.native).toBe(true);
    const run = (c: TinyUfo<TinyUfoKey, number>) =>
      trace(c, (k, v, w, f) => (f ? c.forcePut(k, v, w) : c.put(k, v, w)), ops);
    expect(run(cpp)).toEqual(run(ts));
  });

  it('sketch estimates agree on random hashes', () => {
    const rnd = prng(99);
    const ts = coreOf(new TinyUfo(1000, 1000, { seed: 5 }));
    const cpp = coreOf(new TinyUfo(1000, 1000, { seed: 5, native: true }));
    for (let i = 0; i < 100_000; i++) {
      // A narrow hash range forces collisions and saturation; 8000+ increments force aging.
      const a = Math.floor(rnd() * 3000) | 0;
      const b = (a * 7919) | 0;
      expect(cpp.sketchIncr(a, b)).toBe(ts.sketchIncr(a, b));
      if (i % 97 === 0) expect(cpp.sketchGet(b, a)).toBe(ts.sketchGet(b, a));
    }
  });
});

function replacer(_k: string, v: unknown): unknown {
  if (typeof v === 'bigint') return `${v}n`;
  if (v instanceof Uint8Array) return `bytes[${v.join(',')}]`;
  return v;
}
