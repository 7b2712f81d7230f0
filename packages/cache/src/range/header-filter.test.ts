import { RequestHeader, ResponseHeader } from '@pingora-ts/http';
import { describe, expect, it } from 'vitest';
import { ifRangeMatches, rangeHeaderFilter } from './header-filter.js';

const DATE = 'Fri, 07 Jul 2023 22:03:29 GMT';
const ETAG = '"1234"';
const B = () => 'BOUNDARY';

function req(headers: [string, string][] = [], method = 'GET'): RequestHeader {
  const r = RequestHeader.build(method, '/');
  for (const [n, v] of headers) r.appendHeader(n, v);
  return r;
}

function resp(headers: [string, string][] = [['Content-Length', '10']], status = 200): ResponseHeader {
  const r = ResponseHeader.build(status);
  for (const [n, v] of headers) r.appendHeader(n, v);
  return r;
}

describe('rangeHeaderFilter: eligibility', () => {
  it('advertises Accept-Ranges on an eligible 200 without Range, for GET and HEAD', () => {
    for (const method of ['GET', 'HEAD']) {
      const r = resp();
      expect(rangeHeaderFilter(req([], method), r)).toEqual({ kind: 'None' });
      expect(r.status).toBe(200);
      expect(r.headers.get('accept-ranges')).toBe('bytes');
    }
  });

  it('leaves a non-200, a missing or invalid Content-Length untouched', () => {
    const range: [string, string][] = [['Range', 'bytes=0-1']];
    const cases = [resp([['Content-Length', '10']], 404), resp([]), resp([['Content-Length', '1x']])];
    for (const r of cases) {
      const before = [...r.rawHeaders];
      const status = r.status;
      expect(rangeHeaderFilter(req(range), r)).toEqual({ kind: 'None' });
      expect(r.status).toBe(status);
      expect(r.rawHeaders).toEqual(before);
    }
  });

  it('ignores Range on other methods', () => {
    const r = resp();
    expect(rangeHeaderFilter(req([['Range', 'bytes=0-1']], 'POST'), r)).toEqual({ kind: 'None' });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-range')).toBeUndefined();
  });
});

describe('rangeHeaderFilter: rewrites', () => {
  it('turns a single range into a 206 with Content-Range and its length', () => {
    const r = resp([
      ['Content-Length', '10'],
      ['Accept-Ranges', 'bytes'],
      ['Content-Type', 'text/plain'],
    ]);
    expect(rangeHeaderFilter(req([['Range', 'bytes=0-1']]), r)).toEqual({
      kind: 'Single',
      range: { start: 0, end: 2 },
    });
    expect(r.status).toBe(206);
    expect(r.headers.getAll('content-length')).toEqual(['2']);
    expect(r.headers.get('content-range')).toBe('bytes 0-1/10');
    expect(r.headers.get('content-type')).toBe('text/plain');
    expect(r.headers.has('accept-ranges')).toBe(false);
  });

  it('turns several ranges into a multipart 206 carrying the original type', () => {
    const r = resp([
      ['Content-Length', '10'],
      ['Content-Type', 'text/plain'],
    ]);
    const range = rangeHeaderFilter(req([['Range', 'bytes=0-1,3-4,6-7']]), r, 200, B);
    expect(range).toEqual({
      kind: 'Multi',
      ranges: [
        { start: 0, end: 2 },
        { start: 3, end: 5 },
        { start: 6, end: 8 },
      ],
      boundary: 'BOUNDARY',
      totalLength: 10,
      contentType: 'text/plain',
    });
    expect(r.status).toBe(206);
    expect(r.headers.get('content-type')).toBe('multipart/byteranges; boundary=BOUNDARY');
    // Each part: "\r\n--BOUNDARY\r\n" (14) + "Content-Type: text/plain\r\n" (26) +
    // "Content-Range: bytes a-b/10\r\n" (29) + "\r\n" (2) + 2 bytes = 73; footer "\r\n--BOUNDARY--\r\n" (16).
    expect(r.headers.get('content-length')).toBe(String(3 * 73 + 16));
  });

  it('defaults the parts to application/octet-stream', () => {
    const range = rangeHeaderFilter(req([['Range', 'bytes=0-1,3-4']]), resp(), 200, B);
    expect(range.kind === 'Multi' && range.contentType).toBe('application/octet-stream');
  });

  it('declines overlapping ranges and keeps the 200', () => {
    const r = resp();
    expect(rangeHeaderFilter(req([['Range', 'bytes=0-3,2-5,7-8']]), r)).toEqual({ kind: 'None' });
    expect(r.status).toBe(200);
    expect(r.headers.get('accept-ranges')).toBe('bytes');
  });

  it('answers an unsatisfiable range with an empty 416', () => {
    for (const value of ['bytes=1-0', 'bytes=1-0, 12-9, 50-40', 'bytes=']) {
      const r = resp([
        ['Content-Length', '10'],
        ['Accept-Ranges', 'bytes'],
        ['Content-Type', 'text/plain'],
        ['Content-Encoding', 'gzip'],
        ['Transfer-Encoding', 'chunked'],
      ]);
      expect(rangeHeaderFilter(req([['Range', value]]), r)).toEqual({ kind: 'Invalid' });
      expect(r.status).toBe(416);
      expect(r.headers.get('content-length')).toBe('0');
      expect(r.headers.get('content-range')).toBe('bytes */10');
      for (const gone of ['accept-ranges', 'content-type', 'content-encoding', 'transfer-encoding']) {
        expect(r.headers.has(gone), gone).toBe(false);
      }
    }
  });
});

describe('If-Range', () => {
  const full = (): ResponseHeader =>
    resp([
      ['Content-Length', '10'],
      ['Last-Modified', DATE],
      ['ETag', ETAG],
    ]);

  it('serves the range when Last-Modified or the strong ETag matches', () => {
    for (const ifRange of [DATE, ETAG]) {
      const r = full();
      const range = rangeHeaderFilter(
        req([
          ['Range', 'bytes=0-1'],
          ['If-Range', ifRange],
        ]),
        r,
      );
      expect(range.kind, ifRange).toBe('Single');
      expect(r.status).toBe(206);
    }
    const multi = rangeHeaderFilter(
      req([
        ['Range', 'bytes=0-1,3-4'],
        ['If-Range', DATE],
      ]),
      full(),
    );
    expect(multi.kind).toBe('Multi');
  });

  it('sends the whole body when If-Range does not match', () => {
    for (const ifRange of ['Fri, 07 Jul 2023 22:03:25 GMT', '"4567"', '1234', 'W/"1234"', 'garbage']) {
      const r = full();
      const range = rangeHeaderFilter(
        req([
          ['Range', 'bytes=0-1'],
          ['If-Range', ifRange],
        ]),
        r,
      );
      expect(range, ifRange).toEqual({ kind: 'None' });
      expect(r.status).toBe(200);
      expect(r.headers.get('accept-ranges')).toBe('bytes');
    }
  });

  it('uses strong comparison: a weak stored ETag never matches', () => {
    const weak = resp([
      ['Content-Length', '10'],
      ['ETag', 'W/"1234"'],
    ]);
    expect(ifRangeMatches('W/"1234"', weak)).toBe(false);
    expect(ifRangeMatches('"1234"', weak)).toBe(false);
    expect(ifRangeMatches('"1234"', full())).toBe(true);
  });

  it('compares dates as instants, not strings, and needs Last-Modified', () => {
    // The same instant in the obsolete RFC 850 form.
    expect(ifRangeMatches('Friday, 07-Jul-23 22:03:29 GMT', full())).toBe(true);
    expect(ifRangeMatches(DATE, resp())).toBe(false);
  });
});
