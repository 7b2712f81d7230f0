import { describe, expect, it } from 'vitest';
import { Backend, sortedBackends } from '../backend.js';
import { InflightCounters } from '../inflight.js';
import { FNVHash, Random, RoundRobin, Weighted } from './weighted.js';

// Reference §6 vectors: b1 = 1.1.1.1:80, b2 = 1.0.0.1:80, b3 = 1.0.0.255:80; sorted [b2, b3, b1].
function trio(b2Weight: number) {
  const b1 = new Backend('1.1.1.1:80');
  const b2 = new Backend('1.0.0.1:80', b2Weight);
  const b3 = new Backend('1.0.0.255:80');
  const name = (b: Backend | undefined) => (b === b1 ? 'b1' : b === b2 ? 'b2' : b === b3 ? 'b3' : String(b));
  return { backends: sortedBackends([b1, b2, b3]), name };
}

describe('Weighted selections (Pingora vectors)', () => {
  it('FNVHash, b2 weight 10: the iterator for "test" and first picks of test1..test7', () => {
    const { backends, name } = trio(10);
    const sel = FNVHash.build(backends);
    const it = sel.iter('test');
    const seq = Array.from({ length: 11 }, () => name(it.next()));
    expect(seq.join(' ')).toBe('b2 b2 b2 b1 b3 b2 b2 b1 b2 b3 b1');
    const firsts = [1, 2, 3, 4, 5, 6, 7].map((i) => name(sel.iter(`test${i}`).next()));
    expect(firsts.join(' ')).toBe('b2 b2 b3 b1 b2 b2 b2');
    // Bytes and the same text hash alike.
    expect(name(sel.iter(new TextEncoder().encode('test3')).next())).toBe('b3');
  });

  it('RoundRobin, b2 weight 8, fresh counter: "test" then seven fresh "test1" iterators', () => {
    const { backends, name } = trio(8);
    const sel = RoundRobin.build(backends);
    const it = sel.iter('test');
    expect(Array.from({ length: 5 }, () => name(it.next())).join(' ')).toBe('b2 b3 b1 b2 b3');
    const firsts = Array.from({ length: 7 }, () => name(sel.iter('test1').next()));
    expect(firsts.join(' ')).toBe('b2 b2 b2 b3 b1 b2 b2');
  });

  it('Random, b2 weight 8 of 10: b2 is the first pick 7 000-9 000 times in 10 000', () => {
    const { backends, name } = trio(8);
    const sel = Random.build(backends);
    let b2 = 0;
    for (let i = 0; i < 10_000; i++) if (name(sel.iter('test').next()) === 'b2') b2++;
    expect(b2).toBeGreaterThanOrEqual(7_000);
    expect(b2).toBeLessThanOrEqual(9_000);
  });

  it('each build gets its own round-robin counter', () => {
    const { backends, name } = trio(1);
    const a = RoundRobin.build(backends);
    a.iter('').next();
    expect(name(RoundRobin.build(backends).iter('').next())).toBe('b2');
  });

  it('weight 0 is never a first pick but can be a fallback; all-zero weights still select', () => {
    const b = [new Backend('10.0.0.1:1', 0), new Backend('10.0.0.2:1', 1)];
    const sel = RoundRobin.build(b);
    for (let i = 0; i < 5; i++) expect(sel.iter('').next()).toBe(b[1]);
    const it = sel.iter('');
    it.next();
    expect([it.next(), it.next()]).toContain(b[0]);
    const zero = RoundRobin.build([new Backend('10.0.0.1:1', 0)]);
    expect(zero.iter('').next()?.addr).toBe('10.0.0.1:1');
  });

  it('an empty set yields nothing', () => {
    expect(FNVHash.build([]).iter('k').next()).toBeUndefined();
  });

  it('withAlgorithm builds a weighted selection from a custom algorithm (bytes for fallbacks)', () => {
    const keys: string[] = [];
    const builder = Weighted.withAlgorithm(() => ({
      next(key, out) {
        keys.push(typeof key === 'string' ? `s:${key}` : `b:${key.length}`);
        out.hi = 0;
        out.lo = 1;
      },
    }));
    const { backends } = trio(1);
    const it = builder.build(backends, { inflight: new InflightCounters() }).iter('k');
    expect(it.next()).toBe(backends[1]);
    expect(it.next()).toBe(backends[1]);
    expect(keys).toEqual(['s:k', 'b:8']);
  });
});
