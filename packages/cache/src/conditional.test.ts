import { RequestHeader, ResponseHeader } from '@pingora-ts/http';
import { describe, expect, it } from 'vitest';
import { ifNoneMatchMatches, notModifiedFilter, parseEntityTags, toNotModified } from './conditional.js';

const LAST_MODIFIED = 'Fri, 26 Mar 2010 00:05:00 GMT';

function req(headers: [string, string][], method = 'GET'): RequestHeader {
  const r = RequestHeader.build(method, '/');
  for (const [n, v] of headers) r.appendHeader(n, v);
  return r;
}

function stored(headers: [string, string][] = [], status = 200): ResponseHeader {
  const r = ResponseHeader.build(status);
  for (const [n, v] of headers) r.appendHeader(n, v);
  return r;
}

describe('parseEntityTags / ifNoneMatchMatches', () => {
  it('splits lists, drops W/, keeps commas inside quotes', () => {
    expect(parseEntityTags('a, "xyzzy","r2d2xxxx", W/"c3pio,zzzz" ,zzzfoo')).toEqual([
      'a',
      '"xyzzy"',
      '"r2d2xxxx"',
      '"c3pio,zzzz"',
      'zzzfoo',
    ]);
  });

  it('compares weakly', () => {
    for (const [inm, etag] of [
      ['"xyzzy"', '"xyzzy"'],
      ['"xyzzy"', 'W/"xyzzy"'],
      ['W/"xyzzy"', '"xyzzy"'],
      ['W/"xyzzy"', 'W/"xyzzy"'],
      ['*', '"anything"'],
      ['a, "xyzzy","r2d2xxxx"', '"xyzzy"'],
      ['",", ",,,,", ,,,,,,,,",,,",",,,,,,"', '",,,"'],
      ['a,   xyzzy', 'xyzzy'],
    ] as const) {
      expect(ifNoneMatchMatches(inm, etag), `${inm} vs ${etag}`).toBe(true);
    }
  });

  it('does not match other tags, substrings, or quoted against unquoted', () => {
    for (const [inm, etag] of [
      ['"abc"', '"xyzzy"'],
      ['W/"abc"', 'W/"xyzzy"'],
      ['"foobar", "r2d2xxxxyzzy", "xyzzy,xyzzy"', '"xyzzy"'],
      ['",", ",,,,", ,,,,,,,,",,",",,,,,,"', '",,,"'],
      ['"xyzzy"', 'xyzzy'],
      ['xyzzy', '"xyzzy"'],
      ['"xyzzy,xyzzy,xy"', 'xyzzy'],
    ] as const) {
      expect(ifNoneMatchMatches(inm, etag), `${inm} vs ${etag}`).toBe(false);
    }
  });
});

describe('notModifiedFilter', () => {
  const resp = () =>
    stored([
      ['ETag', '"v1"'],
      ['Last-Modified', LAST_MODIFIED],
    ]);

  it('answers If-Modified-Since by date', () => {
    expect(notModifiedFilter(req([['If-Modified-Since', LAST_MODIFIED]]), resp())).toBe(true);
    expect(notModifiedFilter(req([['If-Modified-Since', 'Sun, 28 Mar 2010 01:07:00 GMT']]), resp())).toBe(
      true,
    );
    expect(notModifiedFilter(req([['If-Modified-Since', 'Fri, 26 Mar 2010 00:03:00 GMT']]), resp())).toBe(
      false,
    );
    expect(notModifiedFilter(req([['If-Modified-Since', 'yesterday']]), resp())).toBe(false);
    expect(notModifiedFilter(req([['If-Modified-Since', LAST_MODIFIED]]), stored())).toBe(false);
  });

  it('lets If-None-Match take precedence over If-Modified-Since', () => {
    const ims: [string, string] = ['If-Modified-Since', 'Sun, 28 Mar 2010 01:07:00 GMT'];
    expect(notModifiedFilter(req([['If-None-Match', '"v2"'], ims]), resp())).toBe(false);
    expect(notModifiedFilter(req([['If-None-Match', 'W/"v1"'], ims]), resp())).toBe(true);
    // No stored ETag: If-None-Match cannot match, and If-Modified-Since is still ignored.
    expect(
      notModifiedFilter(req([['If-None-Match', '"v1"'], ims]), stored([['Last-Modified', LAST_MODIFIED]])),
    ).toBe(false);
  });

  it('reads every If-None-Match line and accepts *', () => {
    const r = req([
      ['If-None-Match', '"a"'],
      ['If-None-Match', '"b", "v1"'],
    ]);
    expect(notModifiedFilter(r, resp())).toBe(true);
    expect(notModifiedFilter(req([['If-None-Match', '*']]), resp())).toBe(true);
  });

  it('applies only to a 200 answering GET or HEAD', () => {
    const inm: [string, string][] = [['If-None-Match', '"v1"']];
    expect(notModifiedFilter(req(inm, 'HEAD'), resp())).toBe(true);
    expect(notModifiedFilter(req(inm, 'POST'), resp())).toBe(false);
    expect(notModifiedFilter(req([['If-Modified-Since', LAST_MODIFIED]], 'PUT'), resp())).toBe(false);
    expect(notModifiedFilter(req(inm), stored([['ETag', '"v1"']], 206))).toBe(false);
    expect(notModifiedFilter(req(inm), stored([['ETag', '"v1"']], 404))).toBe(false);
  });

  it('is false without any conditional header', () => {
    expect(notModifiedFilter(req([]), resp())).toBe(false);
  });
});

describe('toNotModified', () => {
  it('keeps the validators and cache fields and drops the body metadata', () => {
    const keep: [string, string][] = [
      ['ETag', '"v1"'],
      ['Last-Modified', LAST_MODIFIED],
      ['Cache-Control', 'max-age=60'],
      ['Expires', 'Fri, 26 Mar 2010 00:06:00 GMT'],
      ['Vary', 'Accept-Encoding'],
      ['Date', LAST_MODIFIED],
      ['Content-Location', '/a'],
      ['X-Custom', '1'],
    ];
    const drop: [string, string][] = [
      ['Content-Length', '10'],
      ['Content-Type', 'text/plain'],
      ['Content-Encoding', 'gzip'],
      ['Content-Range', 'bytes 0-9/10'],
      ['Transfer-Encoding', 'chunked'],
      ['Accept-Ranges', 'bytes'],
    ];
    const r = stored([...drop.slice(0, 3), ...keep, ...drop.slice(3)]);
    toNotModified(r);
    expect(r.status).toBe(304);
    expect([...r.headers]).toEqual(keep);
  });
});
