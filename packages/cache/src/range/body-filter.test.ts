import { RequestHeader, ResponseHeader } from '@pingora-ts/http';
import { describe, expect, it } from 'vitest';
import { RangeBodyFilter } from './body-filter.js';
import { rangeHeaderFilter } from './header-filter.js';
import type { RangeType } from './parse.js';

const B = () => '3d6b6a416f9b5c2e';

// Feeds `body` in chunks of `size` bytes, then the end, and collects what the filter emits.
function run(filter: RangeBodyFilter, body: Buffer, size: number): Buffer {
  const out: Buffer[] = [];
  for (let i = 0; i < body.length; i += size) {
    const o = filter.filter(body.subarray(i, i + size), false);
    if (o !== undefined) out.push(o);
  }
  const last = filter.filter(undefined, true);
  if (last !== undefined) out.push(last);
  return Buffer.concat(out);
}

function single(start: number, end: number): RangeType {
  return { kind: 'Single', range: { start, end } };
}

describe('RangeBodyFilter: None, Invalid, Single', () => {
  it('passes everything for None and nothing for Invalid', () => {
    const none = new RangeBodyFilter({ kind: 'None' });
    expect(none.filter(Buffer.from('123'), false)?.toString()).toBe('123');
    expect(none.filter(undefined, true)).toBeUndefined();
    const invalid = new RangeBodyFilter({ kind: 'Invalid' });
    expect(invalid.filter(Buffer.from('123'), false)).toBeUndefined();
  });

  it('cuts a single range out of chunks, whatever their boundaries', () => {
    const f = new RangeBodyFilter(single(0, 1));
    expect(f.filter(Buffer.from('012'), false)?.toString()).toBe('0');
    expect(f.filter(Buffer.from('345'), false)).toBeUndefined();

    const g = new RangeBodyFilter(single(4, 6));
    expect(g.filter(Buffer.from('012'), false)).toBeUndefined();
    expect(g.isComplete()).toBe(false);
    expect(g.filter(Buffer.from('345'), false)?.toString()).toBe('45');
    expect(g.isComplete()).toBe(true);
    expect(g.filter(Buffer.from('678'), false)).toBeUndefined();

    const h = new RangeBodyFilter(single(1, 7));
    expect(h.filter(Buffer.from('012'), false)?.toString()).toBe('12');
    expect(h.filter(Buffer.from('345'), false)?.toString()).toBe('345');
    expect(h.filter(Buffer.from('678'), false)?.toString()).toBe('6');
  });

  it('ignores empty chunks', () => {
    const f = new RangeBodyFilter(single(0, 2));
    expect(f.filter(Buffer.alloc(0), false)).toBeUndefined();
    expect(f.filter(Buffer.from('0123'), false)?.toString()).toBe('01');
  });
});

// The multipart body a client expects, built independently of the filter's helpers.
function expectedMultipart(body: Buffer, ranges: [number, number][], type: string, boundary: string): string {
  let s = '';
  for (const [a, b] of ranges) {
    s += `\r\n--${boundary}\r\nContent-Type: ${type}\r\nContent-Range: bytes ${a}-${b}/${body.length}\r\n\r\n`;
    s += body.subarray(a, b + 1).toString('latin1');
  }
  return `${s}\r\n--${boundary}--\r\n`;
}

describe('RangeBodyFilter: multipart', () => {
  const body = Buffer.from('abcdefghijklmnopqrstuvwxyz0123456789', 'latin1');
  const cases: { header: string; ranges: [number, number][] }[] = [
    {
      header: 'bytes=0-1,4-5',
      ranges: [
        [0, 1],
        [4, 5],
      ],
    },
    {
      header: 'bytes=2-6,9-10',
      ranges: [
        [2, 6],
        [9, 10],
      ],
    },
    {
      header: 'bytes=0-0,1-1,2-2,35-35',
      ranges: [
        [0, 0],
        [1, 1],
        [2, 2],
        [35, 35],
      ],
    },
    {
      header: 'bytes=0-9,10-19,-5',
      ranges: [
        [0, 9],
        [10, 19],
        [31, 35],
      ],
    },
    { header: 'bytes=30-,0-3', ranges: [] }, // descending: declined, whole body
    { header: 'bytes=5-1000,1-2', ranges: [] },
    {
      header: 'bytes=0-4,100-200,20-',
      ranges: [
        [0, 4],
        [20, 35],
      ],
    },
  ];

  for (const { header, ranges } of cases) {
    it(`emits exactly Content-Length bytes for ${header}, in any chunking`, () => {
      for (const size of [1, 3, 7, body.length]) {
        const req = RequestHeader.build('GET', '/');
        req.insertHeader('Range', header);
        const resp = ResponseHeader.build(200);
        resp.insertHeader('Content-Length', body.length);
        resp.insertHeader('Content-Type', 'text/plain; charset=latin1');
        const range = rangeHeaderFilter(req, resp, 200, B);
        const filter = new RangeBodyFilter(range);
        const out = run(filter, body, size);
        expect(out.length).toBe(Number(resp.headers.get('content-length')));
        expect(filter.isComplete()).toBe(true);
        if (ranges.length === 0) {
          expect(range.kind).toBe('None');
          expect(out.equals(body)).toBe(true);
        } else {
          expect(range.kind).toBe('Multi');
          expect(out.toString('latin1')).toBe(
            expectedMultipart(body, ranges, 'text/plain; charset=latin1', '3d6b6a416f9b5c2e'),
          );
        }
      }
    });
  }

  it('leaves out the Content-Type line when the range carries none, and stays short on a short body', () => {
    const range: RangeType = {
      kind: 'Multi',
      ranges: [
        { start: 0, end: 2 },
        { start: 4, end: 6 },
      ],
      boundary: 'b',
      totalLength: 10,
      contentType: undefined,
    };
    const f = new RangeBodyFilter(range);
    const out = f.filter(Buffer.from('01234'), false)?.toString();
    expect(out).toBe(
      '\r\n--b\r\nContent-Range: bytes 0-1/10\r\n\r\n01\r\n--b\r\nContent-Range: bytes 4-5/10\r\n\r\n4',
    );
    // The body ends before the second range does: no footer is invented.
    expect(f.filter(undefined, true)).toBeUndefined();
    expect(f.isComplete()).toBe(false);
  });
});
