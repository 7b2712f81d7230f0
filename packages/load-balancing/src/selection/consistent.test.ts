import { describe, expect, it } from 'vitest';
import { Backend, sortedBackends } from '../backend.js';
import { Consistent } from './consistent.js';

describe('Consistent (ketama)', () => {
  const b1 = new Backend('1.1.1.1:80');
  const b2 = new Backend('1.0.0.1:80');
  const b3 = new Backend('1.0.0.255:80');
  const name = (b: Backend | undefined) => (b === b1 ? 'b1' : b === b2 ? 'b2' : b === b3 ? 'b3' : String(b));
  const keys = Array.from({ length: 10 }, (_, i) => `test${i}`);

  it('Pingora vectors: test0..test9 with three backends, then without b3', () => {
    const all = Consistent.build(sortedBackends([b1, b2, b3]));
    expect(keys.map((k) => name(all.iter(k).next())).join(' ')).toBe('b2 b1 b1 b1 b1 b3 b1 b3 b1 b2');
    const two = Consistent.build(sortedBackends([b1, b2]));
    expect(keys.map((k) => name(two.iter(k).next())).join(' ')).toBe('b2 b1 b1 b1 b1 b2 b1 b1 b1 b2');
  });

  it('fallbacks walk the ring (ketama node_iter order for "doghash")', () => {
    const bs = [7777, 7778, 7779].map((p) => new Backend(`127.0.0.1:${p}`));
    const it = Consistent.build(bs).iter('doghash');
    const ports = Array.from({ length: 8 }, () => it.next()!.address).map((a) =>
      a.kind === 'inet' ? a.port : 0,
    );
    expect(ports).toEqual([7778, 7779, 7779, 7777, 7777, 7778, 7778, 7779]);
  });

  it('IPv6 backends hash as Pingora does (no brackets)', () => {
    const bs = [7777, 7778, 7779].map((p) => new Backend(`[::1]:${p}`));
    const it = Consistent.build(bs).iter('doghash');
    const ports = Array.from({ length: 7 }, () => it.next()!.address).map((a) =>
      a.kind === 'inet' ? a.port : 0,
    );
    expect(ports).toEqual([7777, 7778, 7777, 7778, 7778, 7777, 7779]);
  });

  it('weights shape the ring; Unix sockets and weight 0 stay off it; empty yields nothing', () => {
    const w = [1, 2, 3].map((n) => new Backend(`127.0.0.${n}:12345`, n));
    const sel = Consistent.build(w);
    expect(sel.iter('some_key').next()).toBe(w[2]);
    expect(sel.iter('another_key').next()).toBe(w[2]);
    expect(sel.iter('last_key').next()).toBe(w[1]);
    const mixed = Consistent.build([new Backend('unix:/tmp/x.sock'), new Backend('10.0.0.1:1', 0)]);
    expect(mixed.ring.size).toBe(0);
    expect(mixed.iter('k').next()).toBeUndefined();
  });
});
