import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { assertImpl, IMPLS } from '../test/impls.js';
import { Bucket } from './bucket.js';
import { Continuum, type ContinuumOptions } from './continuum.js';
import { isNativeEnabled } from './native.js';

const ring = (addrs: string[], options: ContinuumOptions = {}, weight = 1) =>
  new Continuum(
    addrs.map((a) => new Bucket(a, weight)),
    options,
  );

const take = (it: Iterator<string>, n: number) => Array.from({ length: n }, () => it.next().value);

describe.each(IMPLS)('Continuum (%s)', (impl) => {
  const opts: ContinuumOptions = { implementation: impl };

  it('builds with the requested implementation', () => {
    assertImpl(impl);
    expect(ring(['127.0.0.1:7777'], opts).builtWith).toBe(impl);
  });

  it("matches pingora-ketama's matches_nginx_sample", () => {
    const c = ring(['127.0.0.1:7777', '127.0.0.1:7778'], opts);
    const expected: [string, string][] = [
      ['/some/path', '127.0.0.1:7778'],
      ['/some/longer/path', '127.0.0.1:7777'],
      ['/sad/zaidoon', '127.0.0.1:7778'],
      ['/g', '127.0.0.1:7777'],
      ['/pingora/team/is/cool/and/this/is/a/long/uri', '127.0.0.1:7778'],
      ['/i/am/not/confident/in/this/code', '127.0.0.1:7777'],
    ];
    for (const [key, addr] of expected) {
      expect(c.node(key), key).toBe(addr);
      expect(c.node(new TextEncoder().encode(key)), key).toBe(addr);
    }
    expect(c.size).toBe(320);
  });

  it('walks the ring point by point (node_iter vector)', () => {
    const c = ring(['127.0.0.1:7777', '127.0.0.1:7778', '127.0.0.1:7779'], opts);
    expect(take(c.nodeIter('doghash'), 8)).toEqual(
      [7778, 7779, 7779, 7777, 7777, 7778, 7778, 7779].map((p) => `127.0.0.1:${p}`),
    );
    const dropped = ring(['127.0.0.1:7777', '127.0.0.1:7779'], opts);
    expect(take(dropped.nodeIter('doghash'), 5)).toEqual(
      [7779, 7779, 7777, 7777, 7779].map((p) => `127.0.0.1:${p}`),
    );
  });

  it('wraps around forever: one lap returns to the starting point', () => {
    const c = ring(['127.0.0.1:7777'], opts);
    const it = c.nodeIter('doghash');
    const start = it.idx;
    for (let i = 0; i < c.size; i++) expect(it.next()).toEqual({ done: false, value: '127.0.0.1:7777' });
    expect(it.idx).toBe(start);
    expect(c.size).toBe(160);
  });

  it("IPv6 with compat 'pingora' matches pingora-ketama's test_ipv6_ring", () => {
    const c = ring(['[::1]:7777', '[::1]:7778', '[::1]:7779'], { ...opts, compat: 'pingora' });
    expect(take(c.nodeIter('doghash'), 7)).toEqual(
      [7777, 7778, 7777, 7778, 7778, 7777, 7779].map((p) => `[::1]:${p}`),
    );
  });

  it('IPv6 by default hashes "[::1]" as nginx does, so the order differs from Pingora', () => {
    const c = ring(['[::1]:7777', '[::1]:7778', '[::1]:7779'], opts);
    // Recorded from nginx 1.22.1 (test-data/nginx-golden.json, set three-v6): doghash -> [::1]:7779.
    expect(c.node('doghash')).toBe('[::1]:7779');
    expect(c.compat).toBe('nginx');
  });

  it('keeps keys in place when a server is added (consistency_after_adding_host)', () => {
    for (const n of [10, 11]) {
      const c = ring(
        Array.from({ length: n }, (_, i) => `127.0.0.${i + 1}:6443`),
        opts,
      );
      expect(c.node('a')).toBe('127.0.0.10:6443');
      expect(c.node('b')).toBe('127.0.0.5:6443');
    }
  });

  it('weights 1/2/3 (the pingora-ketama doc example)', () => {
    const c = new Continuum(
      [new Bucket('127.0.0.1:12345', 1), new Bucket('127.0.0.2:12345', 2), new Bucket('127.0.0.3:12345', 3)],
      opts,
    );
    expect(c.nodes(['some_key', 'another_key', 'last_key'])).toEqual([
      '127.0.0.3:12345',
      '127.0.0.3:12345',
      '127.0.0.2:12345',
    ]);
    expect(c.size).toBe(960);
  });

  it('matches all 1001 rows of sample-nginx-upstream.csv (10.0.0.1..9:443, weight 100)', () => {
    const rows = readFileSync(new URL('../test-data/sample-nginx-upstream.csv', import.meta.url), 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(',') as [string, string]);
    expect(rows).toHaveLength(1001);
    expect(rows[0]).toEqual(['/81fa1d251d605775d647b5b55565e71526d4cef6', '10.0.0.7:443']);
    const c = ring(
      Array.from({ length: 9 }, (_, i) => `10.0.0.${i + 1}:443`),
      opts,
      100,
    );
    for (const compat of ['nginx', 'pingora'] as const) {
      const cc =
        compat === 'nginx'
          ? c
          : ring(
              Array.from({ length: 9 }, (_, i) => `10.0.0.${i + 1}:443`),
              { ...opts, compat },
              100,
            );
      const mismatches = rows.filter(([uri, upstream]) => cc.node(uri) !== upstream);
      expect(mismatches, compat).toEqual([]);
    }
    // The batch path (native for large batches) agrees with the single lookups.
    expect(c.nodes(rows.map((r) => r[0]))).toEqual(rows.map((r) => r[1]));
  });

  it('an empty ring finds nothing and its iterator yields nothing, repeatedly', () => {
    const c = new Continuum([], opts);
    expect(c.size).toBe(0);
    expect(c.node('doghash')).toBeUndefined();
    expect(c.nodeIdx('doghash')).toBe(0);
    const it = c.nodeIter('doghash');
    expect([it.next(), it.next(), it.next()]).toEqual([
      { done: true, value: undefined },
      { done: true, value: undefined },
      { done: true, value: undefined },
    ]);
    expect([...c.nodeIter('x')]).toEqual([]);
    expect(c.nodes(['a', 'b'])).toEqual([undefined, undefined]);
    expect(c.getAddr({ idx: 0 })).toBeUndefined();
  });

  it('getAddr returns the point at cursor.idx and advances the cursor, wrapping at the end', () => {
    const c = ring(['127.0.0.1:7777', '127.0.0.1:7778', '127.0.0.1:7779'], opts);
    const cursor = { idx: c.nodeIdx('doghash') };
    const viaIter = take(c.nodeIter('doghash'), 4);
    expect([c.getAddr(cursor), c.getAddr(cursor), c.getAddr(cursor), c.getAddr(cursor)]).toEqual(viaIter);
    const last = { idx: c.size - 1 };
    expect(c.getAddr(last)).toBeDefined();
    expect(last.idx).toBe(0);
    for (const idx of [-1, c.size, 1.5, Number.NaN]) {
      const cur = { idx };
      expect(c.getAddr(cur)).toBeUndefined();
      expect(cur.idx).toBe(idx);
    }
  });

  it('nodeIdx is the first point >= crc32(key); past the last point it wraps to 0', () => {
    const c = ring(['127.0.0.1:7777', '127.0.0.1:7778'], opts);
    // Find keys hashing above every point: they must wrap to index 0.
    const idx = c.nodeIdxs(Array.from({ length: 20000 }, (_, i) => `k${i}`));
    expect(idx.every((i) => i < c.size)).toBe(true);
    expect(Array.from(idx).some((i) => i === 0)).toBe(true);
    for (let i = 0; i < 2000; i++) expect(idx[i]).toBe(c.nodeIdx(`k${i}`));
  });

  it('batch lookups equal single lookups for strings and bytes, small and large batches', () => {
    const c = ring(['127.0.0.1:1', '[2001:db8::1]:2', '10.1.2.3:3'], opts, 3);
    for (const n of [0, 1, 10, 63, 64, 1000]) {
      const keys: (string | Uint8Array)[] = Array.from({ length: n }, (_, i) =>
        i % 3 === 0 ? new TextEncoder().encode(`key-${i}-é`) : `key-${i}-${'x'.repeat(i % 300)}-漢`,
      );
      expect(c.nodes(keys)).toEqual(keys.map((k) => c.node(k)));
      expect(Array.from(c.nodeIdxs(keys))).toEqual(keys.map((k) => c.nodeIdx(k)));
    }
  });

  it('rejects keys that are neither strings nor Uint8Array, in single and batch lookups', () => {
    const c = ring(['127.0.0.1:1'], opts);
    expect(() => c.node(42 as unknown as string)).toThrow(TypeError);
    const bad = Array.from({ length: 100 }, (_, i) => (i === 50 ? ({} as unknown as string) : `k${i}`));
    expect(() => c.nodes(bad)).toThrow(/key must be a string or a Uint8Array/);
  });

  it('accepts any iterable of buckets and repeated addresses', () => {
    const b = new Bucket('127.0.0.1:80', 1);
    const c = new Continuum(new Set([b, new Bucket('127.0.0.1:80', 1)]), opts);
    expect(c.node('anything')).toBe('127.0.0.1:80');
    expect(c.size).toBeLessThanOrEqual(320);
  });
});

describe('Continuum options', () => {
  it('validates compat, implementation and bucket types', () => {
    const b = [new Bucket('127.0.0.1:80', 1)];
    expect(() => new Continuum(b, { compat: 'haproxy' as 'nginx' })).toThrow(/compat must be/);
    expect(() => new Continuum(b, { implementation: 'wasm' as 'ts' })).toThrow(/implementation must be/);
    expect(() => new Continuum(['127.0.0.1:80' as unknown as Bucket])).toThrow(/Bucket instances/);
  });

  it("'auto' builds natively whenever the addon is loaded, 'ts' never does", () => {
    for (const weight of [1, 100]) {
      const c = new Continuum([new Bucket('127.0.0.1:80', weight)]);
      expect(c.builtWith).toBe(isNativeEnabled() ? 'native' : 'ts');
    }
    expect(new Continuum([new Bucket('127.0.0.1:80', 100)], { implementation: 'ts' }).builtWith).toBe('ts');
  });
});
