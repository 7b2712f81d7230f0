/**
 * The native addon against its TypeScript twin: identical rings and lookups on random inputs.
 * Skipped only under PINGORA_TS_NATIVE=0; otherwise the addon must be loaded.
 */
import { mulberry32 as rng } from '@pingora-ts/test-utils';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { nativeDisabled } from '../test/impls.js';
import { Bucket } from './bucket.js';
import { Continuum } from './continuum.js';
import { isNativeEnabled, nativeBinding } from './native.js';
import { buildRingTs, type Compat } from './ring.js';

function randomBuckets(r: () => number): Bucket[] {
  const n = Math.floor(r() * 25);
  const out: Bucket[] = [];
  for (let i = 0; i < n; i++) {
    const int = (m: number) => Math.floor(r() * m);
    const port = r() < 0.1 ? `0${int(9999)}` : String(int(65536));
    const weight = r() < 0.05 ? 50 + int(200) : 1 + int(8);
    const roll = r();
    let addr: string;
    if (roll < 0.4) addr = `${int(256)}.${int(256)}.${int(256)}.${int(256)}:${port}`;
    else if (roll < 0.7)
      addr = `[${Array.from({ length: 8 }, () => (r() < 0.4 ? 0 : int(65536)).toString(16)).join(':')}]:${port}`;
    else if (roll < 0.85) addr = `[::${int(65536).toString(16)}]:${port}`;
    else if (roll < 0.95) addr = `[::ffff:127.0.0.${int(256)}]:${port}`;
    else addr = out[0]?.server ?? '127.0.0.1:80'; // a repeated address: every point ties
    out.push(new Bucket(addr, weight));
  }
  return out;
}

function randomKey(r: () => number): string | Uint8Array {
  const len = Math.floor(r() * 60);
  if (r() < 0.25) return Uint8Array.from({ length: len }, () => Math.floor(r() * 256));
  let s = '';
  for (let i = 0; i < len; i++) {
    const roll = r();
    s += String.fromCharCode(roll < 0.7 ? 32 + Math.floor(r() * 95) : Math.floor(r() * 0x10000));
  }
  return s;
}

describe.skipIf(nativeDisabled)('native addon vs TypeScript', () => {
  it('is loaded (PINGORA_TS_NATIVE is not 0, so a missing build is a failure)', () => {
    expect(isNativeEnabled()).toBe(true);
  });

  it('builds identical rings for random bucket sets (IPv4, IPv6, weights, repeats)', () => {
    const native = nativeBinding()!;
    const r = rng(7);
    for (let round = 0; round < 300; round++) {
      const buckets = randomBuckets(r);
      const compat: Compat = r() < 0.5 ? 'nginx' : 'pingora';
      const ts = buildRingTs(buckets, compat);
      const nat = new Continuum(buckets, { compat, implementation: 'native' });
      const tsc = new Continuum(buckets, { compat, implementation: 'ts' });
      expect(nat.size, `round ${round}`).toBe(ts.hashes.length);
      // Same points and owners: compare the owner of every point through getAddr.
      for (let i = 0; i < nat.size; i += 1 + Math.floor(nat.size / 500)) {
        expect(nat.getAddr({ idx: i })).toBe(tsc.getAddr({ idx: i }));
      }
      expect(native.abi).toBe(1);
    }
  });

  it('returns the exact same hash and node arrays as the TypeScript build', () => {
    const native = nativeBinding()!;
    const r = rng(11);
    for (let round = 0; round < 100; round++) {
      const buckets = randomBuckets(r);
      const ts = buildRingTs(buckets, 'nginx');
      const bases = buckets.map((b) => `${b.hashHost('nginx')}\0${b.hashPort('nginx')}`);
      const ends = new Uint32Array(bases.length);
      let end = 0;
      bases.forEach((b, i) => {
        end += b.length;
        ends[i] = end;
      });
      const [hashes, nodes] = native.buildRing(
        new TextEncoder().encode(bases.join('')),
        ends,
        Uint32Array.from(buckets, (b) => b.weight),
      );
      expect(
        Buffer.from(hashes.buffer, hashes.byteOffset, hashes.byteLength).equals(
          Buffer.from(ts.hashes.buffer, ts.hashes.byteOffset, ts.hashes.byteLength),
        ),
      ).toBe(true);
      expect(Array.from(nodes)).toEqual(Array.from(ts.nodes));
    }
  });

  it('answers random keys (strings with surrogates, bytes) exactly like TypeScript', () => {
    const r = rng(13);
    for (let round = 0; round < 40; round++) {
      let buckets = randomBuckets(r);
      if (buckets.length === 0) buckets = [new Bucket('10.0.0.1:1', 1)];
      const nat = new Continuum(buckets, { implementation: 'native' });
      const ts = new Continuum(buckets, { implementation: 'ts' });
      const keys = Array.from({ length: 500 }, () => randomKey(r));
      expect(Array.from(nat.nodeIdxs(keys))).toEqual(Array.from(ts.nodeIdxs(keys)));
      expect(nat.nodes(keys)).toEqual(ts.nodes(keys));
      for (const k of keys.slice(0, 50)) expect(nat.node(k)).toBe(ts.node(k));
    }
  });

  it('joined string batches: surrogate halves split across keys, chunk boundaries, empty keys', () => {
    const buckets = [new Bucket('127.0.0.1:1', 2), new Bucket('[::1]:2', 3), new Bucket('10.0.0.1:3', 1)];
    const nat = new Continuum(buckets, { implementation: 'native' });
    const ts = new Continuum(buckets, { implementation: 'ts' });
    const r = rng(17);
    const keys: (string | Uint8Array)[] = ['\ud83d', '\ude00', 'a\ud800', '\udc00b', '', '😀', ''];
    for (let i = 0; i < 9000; i++) keys.push(randomKey(r), `s${i}\ud800`);
    const strings = keys.filter((k): k is string => typeof k === 'string');
    expect(strings.length).toBeGreaterThan(4096 * 2);
    expect(Array.from(nat.nodeIdxs(strings))).toEqual(strings.map((k) => ts.nodeIdx(k)));
    // The same keys through the auto path (native for all-string batches of 64 and more).
    const auto = new Continuum(buckets);
    expect(auto.nodes(strings)).toEqual(ts.nodes(strings));
  });

  it('rejects malformed arguments instead of reading out of bounds', () => {
    const native = nativeBinding()!;
    const bytes = new TextEncoder().encode('1.2.3.4\u000080');
    expect(() => native.buildRing(bytes, new Uint32Array([99]), new Uint32Array([1]))).toThrow(RangeError);
    expect(() => native.buildRing(bytes, new Uint32Array([1, 2]), new Uint32Array([1]))).toThrow(RangeError);
    expect(() =>
      native.buildRing(
        bytes as unknown as Uint8Array,
        new Float64Array([1]) as unknown as Uint32Array,
        new Uint32Array([1]),
      ),
    ).toThrow(TypeError);
    expect(() => native.lookup(new Uint32Array(1), ['a', 'b'], new Uint32Array(1))).toThrow(RangeError);
    expect(() =>
      native.lookupJoined(new Uint32Array(1), 'ab', new Uint32Array([1, 2]), new Uint32Array(2)),
    ).toThrow(RangeError);
    expect(() =>
      native.lookupJoined(new Uint32Array(1), 'ab', new Uint32Array([1, 1]), new Uint32Array(1)),
    ).toThrow(RangeError);
  });
});

describe('PINGORA_TS_NATIVE=0', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  it('disables the addon: TypeScript everywhere, and an explicit native request throws', async () => {
    vi.stubEnv('PINGORA_TS_NATIVE', '0');
    vi.resetModules();
    const fresh = await import('./index.js');
    expect(fresh.isNativeEnabled()).toBe(false);
    const buckets = [new fresh.Bucket('127.0.0.1:80', 100)];
    const c = new fresh.Continuum(buckets);
    expect(c.builtWith).toBe('ts');
    expect(c.nodes(Array.from({ length: 100 }, (_, i) => `k${i}`))).toHaveLength(100);
    expect(() => new fresh.Continuum(buckets, { implementation: 'native' })).toThrow(/addon is not loaded/);
  });
});
