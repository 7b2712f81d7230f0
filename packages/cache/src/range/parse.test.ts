import { describe, expect, it } from 'vitest';
import { type RangeType, parseRangeHeader, randomBoundary } from './parse.js';

const B = () => 'BOUNDARY';

function single(start: number, end: number): RangeType {
  return { kind: 'Single', range: { start, end } };
}

function multi(value: string, length: number): [number, number][] {
  const r = parseRangeHeader(value, length, 200, B);
  if (r.kind !== 'Multi') throw new Error(`expected Multi, got ${r.kind}`);
  expect(r.boundary).toBe('BOUNDARY');
  expect(r.totalLength).toBe(length);
  expect(r.contentType).toBeUndefined();
  return r.ranges.map((x) => [x.start, x.end]);
}

describe('parseRangeHeader: single ranges', () => {
  it('reads first-last with an inclusive last byte, unit case-insensitive', () => {
    expect(parseRangeHeader('bytes=0-1', 10)).toEqual(single(0, 2));
    expect(parseRangeHeader('bYTes=0-9', 10)).toEqual(single(0, 10));
    expect(parseRangeHeader('bytes= 3-4 ', 10)).toEqual(single(3, 5));
  });

  it('clamps an end past the last byte and opens a missing end', () => {
    expect(parseRangeHeader('bytes=0-12', 10)).toEqual(single(0, 10));
    expect(parseRangeHeader('bytes=0-', 10)).toEqual(single(0, 10));
    expect(parseRangeHeader('bytes=9-', 10)).toEqual(single(9, 10));
    expect(parseRangeHeader('bytes=0-99999999999999999999999', 10)).toEqual(single(0, 10));
  });

  it('reads suffixes, all of the body when the suffix is longer', () => {
    expect(parseRangeHeader('bytes=-2', 10)).toEqual(single(8, 10));
    expect(parseRangeHeader('bytes=-12', 10)).toEqual(single(0, 10));
  });

  it('returns Invalid when nothing is satisfiable', () => {
    for (const v of ['bytes=2-1', 'bytes=10-11', 'bytes=-', 'bytes=-0', 'bytes=', 'bytes=  ']) {
      expect(parseRangeHeader(v, 10), v).toEqual({ kind: 'Invalid' });
    }
    expect(parseRangeHeader('bytes=99999999999999999999999-', 10)).toEqual({ kind: 'Invalid' });
    expect(parseRangeHeader('bytes=0-0', 0)).toEqual({ kind: 'Invalid' });
    expect(parseRangeHeader('bytes=-5', 0)).toEqual({ kind: 'Invalid' });
  });

  it('returns None for another unit, no "=", or a malformed spec', () => {
    for (const v of [
      'items=0-1',
      'bytes',
      'bytes =0-1',
      'bytes=a-b',
      'bytes=0-1-2',
      'bytes=1',
      'bytes=0-1,,3-4',
    ]) {
      expect(parseRangeHeader(v, 10), v).toEqual({ kind: 'None' });
    }
    expect(parseRangeHeader('bytes=+1-2', 10)).toEqual({ kind: 'None' });
  });
});

describe('parseRangeHeader: several ranges', () => {
  it('returns ascending disjoint ranges as Multi with the generated boundary', () => {
    expect(multi('bytes=0-1,4-5', 10)).toEqual([
      [0, 2],
      [4, 6],
    ]);
    expect(multi('bytEs=0-99,200-299,400-499', 500)).toEqual([
      [0, 100],
      [200, 300],
      [400, 500],
    ]);
    // Adjacent ranges do not overlap.
    expect(multi('bytes=0-1,2-3', 10)).toEqual([
      [0, 2],
      [2, 4],
    ]);
  });

  it('drops unsatisfiable ranges and keeps the rest', () => {
    expect(multi('bytEs=0-99,200-299,400-499', 320)).toEqual([
      [0, 100],
      [200, 300],
    ]);
    expect(multi('bytes=0-5, 10-20, 30-18', 200)).toEqual([
      [0, 6],
      [10, 21],
    ]);
    expect(parseRangeHeader('bytes=0-5,10-', 2)).toEqual(single(0, 2));
    expect(parseRangeHeader('bytes=5-0, 20-15, 30-25', 200)).toEqual({ kind: 'Invalid' });
  });

  it('declines overlapping or descending ranges with None', () => {
    expect(parseRangeHeader('bytes=0-3,2-5', 10)).toEqual({ kind: 'None' });
    expect(parseRangeHeader('bytes=0-,-2', 10)).toEqual({ kind: 'None' });
    expect(parseRangeHeader('bytes=4-5,0-1', 10)).toEqual({ kind: 'None' });
  });

  it('serves the whole body when more than maxMultipart ranges are asked for', () => {
    const specs = (n: number) =>
      `bytes=${Array.from({ length: n }, (_, i) => `${i * 4}-${i * 4 + 1}`).join(',')}`;
    expect(parseRangeHeader(specs(201), 1000)).toEqual({ kind: 'None' });
    const at = parseRangeHeader(specs(200), 1000);
    expect(at.kind === 'Multi' ? at.ranges.length : 0).toBe(200);
    expect(parseRangeHeader(specs(3), 1000, 2)).toEqual({ kind: 'None' });
    expect(parseRangeHeader(specs(2), 1000, 2).kind).toBe('Multi');
  });
});

describe('randomBoundary', () => {
  it('is 16 hex digits and differs between calls', () => {
    const a = randomBoundary();
    const b = randomBoundary();
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(b).toMatch(/^[0-9a-f]{16}$/);
    expect(a).not.toBe(b);
  });
});
