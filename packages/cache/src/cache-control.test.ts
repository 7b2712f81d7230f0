import { type PingoraError, ErrorType } from '@pingora-ts/error';
import { RequestHeader, ResponseHeader } from '@pingora-ts/http';
import { describe, expect, it } from 'vitest';
import { CacheControl, DELTA_SECONDS_OVERFLOW_VALUE, DirectiveValue } from './cache-control.js';

// Header values as Node hands them over: one latin1 character per wire byte.
const wire = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');

function cc(...lines: string[]): CacheControl {
  const raw = lines.flatMap((l) => ['Cache-Control', l]);
  const parsed = CacheControl.fromHeaders(ResponseHeader.fromRaw(200, raw).headers);
  if (parsed === undefined) throw new Error('no cache-control');
  return parsed;
}

function errContext(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    expect((e as PingoraError).type).toBe(ErrorType.InternalError);
    return (e as PingoraError).context;
  }
  return undefined;
}

const entries = (c: CacheControl) => [...c.directives].map(([k, v]) => [k, v?.raw]);

describe('parsing (Pingora cache_control.rs vectors)', () => {
  it('simple', () => {
    const c = cc('public, max-age=10000');
    expect(c.isPublic()).toBe(true);
    expect(c.maxAge()).toBe(10000);
  });

  it('private', () => {
    const c = cc('private');
    expect(c.isPrivate()).toBe(true);
    expect(c.maxAge()).toBeUndefined();
  });

  it('directives across header lines, header name case-insensitive', () => {
    const resp = ResponseHeader.fromRaw(200, ['Cache-Control', 'public,', 'cache-Control', 'max-age=10000']);
    const c = CacheControl.fromHeaders(resp.headers)!;
    expect(c.isPublic()).toBe(true);
    expect(c.maxAge()).toBe(10000);
  });

  it('semicolons as delimiters', () => {
    const c = cc('public; max-age=0');
    expect(c.isPublic()).toBe(true);
    expect(c.maxAge()).toBe(0);
  });

  it('unknown directives keep order and raw values', () => {
    expect(entries(cc('public,random1=random2, rand3=""'))).toEqual([
      ['public', undefined],
      ['random1', 'random2'],
      ['rand3', '""'],
    ]);
  });

  it('case-insensitive names, values keep case', () => {
    const c = cc('Public="something", mAx-AGe="10000", foo=cRaZyCaSe, bAr="inQuotes"');
    expect(c.isPublic()).toBe(true);
    expect(c.maxAge()).toBe(10000);
    expect(entries(c)).toEqual([
      ['public', '"something"'],
      ['max-age', '"10000"'],
      ['foo', 'cRaZyCaSe'],
      ['bar', '"inQuotes"'],
    ]);
  });

  it('non-ASCII names and values', () => {
    const c = cc(wire('püblic=💖, max-age="💯"'));
    expect(c.isPublic()).toBe(false);
    expect(errContext(() => c.maxAge())).toBe('could not parse value as u32');
    expect(entries(c)).toEqual([
      ['püblic', wire('💖')],
      ['max-age', wire('"💯"')],
    ]);
  });

  it('a name that is not UTF-8 is dropped', () => {
    expect(entries(cc('bar\xFF="baz", a=b'))).toEqual([['a', 'b']]);
  });

  it('values that are not UTF-8 are kept but do not parse', () => {
    const c = cc('max-age=ba\xFFr, bar="baz\xFF", a=b');
    expect(errContext(() => c.maxAge())).toBe('could not parse value as utf8');
    expect(entries(c)).toEqual([
      ['max-age', 'ba\xFFr'],
      ['bar', '"baz\xFF"'],
      ['a', 'b'],
    ]);
  });

  it('delta-seconds overflow and negatives', () => {
    const c = cc('max-age=-99999999999999999999999999, s-maxage=99999999999999999999999999');
    expect(c.sMaxage()).toBe(DELTA_SECONDS_OVERFLOW_VALUE);
    expect(errContext(() => c.maxAge())).toBe('could not parse value as u32');
  });

  it('duplicates: first position, last value', () => {
    expect(entries(cc('max-age=1, public, max-age=2'))).toEqual([
      ['max-age', '2'],
      ['public', undefined],
    ]);
  });

  it('fromHeaders is undefined without the header; custom names work', () => {
    expect(CacheControl.fromHeaders(ResponseHeader.fromRaw(200, []).headers)).toBeUndefined();
    const resp = ResponseHeader.fromRaw(200, ['CDN-Cache-Control', 'max-age=7']);
    expect(CacheControl.fromHeaders(resp.headers, 'cdn-cache-control')?.maxAge()).toBe(7);
  });

  it('request only-if-cached', () => {
    const req = RequestHeader.fromRaw('GET', '/', ['Cache-Control', 'only-if-cached=1']);
    expect(CacheControl.fromHeaders(req.headers)?.onlyIfCached()).toBe(true);
  });
});

describe('interpretation (Pingora vectors)', () => {
  it('fresh seconds: none, max-age, s-maxage preferred', () => {
    expect(cc('').freshSec()).toBeUndefined();
    expect(cc('max-age=12345').freshSec()).toBe(12345);
    expect(cc('max-age=99999,s-maxage=123').freshSec()).toBe(123);
  });

  it('cacheability', () => {
    expect(cc('').isCacheable()).toBe('Default');
    expect(cc('private, max-age=12345').isCacheable()).toBe('No');
    expect(cc('no-store, max-age=12345').isCacheable()).toBe('No');
    expect(cc('public').isCacheable()).toBe('Yes');
    expect(cc('max-age=0').isCacheable()).toBe('Yes');
  });

  it('no-cache is cacheable but always stale', () => {
    const c = cc('no-cache, max-age=12345');
    expect(c.isCacheable()).toBe('Yes');
    expect(c.freshSec()).toBe(0);
  });

  it('no-cache field names', () => {
    const c = cc('no-cache="set-cookie", max-age=12345');
    expect(c.isPrivate()).toBe(false);
    expect(c.isCacheable()).toBe('Yes');
    expect(c.freshSec()).toBe(12345);
    expect(c.noCacheFieldNames()).toEqual(['set-cookie']);

    const d = cc('private="", no-cache="a\xFF, set-cookie, Baz\x09 , c,d  ,, "');
    expect(d.privateFieldNames()).toEqual(['']);
    expect(d.noCacheFieldNames()).toEqual(['a\xFF', 'set-cookie', 'Baz', 'c', 'd', '', '']);
    expect(d.isPrivate()).toBe(false);
  });

  it('strips private headers', () => {
    const resp = ResponseHeader.build(200);
    resp.appendHeader('Cache-Control', 'no-cache="x-private-header", max-age=12345');
    resp.appendHeader('X-Private-Header', 'dropped');
    resp.appendHeader('X-Kept', 'kept');
    CacheControl.fromHeaders(resp.headers)!.stripPrivateHeaders(resp);
    expect(resp.headers.has('X-Private-Header')).toBe(false);
    expect(resp.headers.get('x-kept')).toBe('kept');
  });

  it('stale-while-revalidate and stale-if-error', () => {
    const a = cc('max-age=12345, stale-while-revalidate=5');
    expect(a.staleWhileRevalidate()).toBe(5);
    expect(a.serveStaleWhileRevalidateSec()).toBe(5);
    expect(a.serveStaleIfErrorSec()).toBeUndefined();
    const b = cc('max-age=12345, stale-if-error=3600');
    expect(b.staleIfError()).toBe(3600);
    expect(b.serveStaleIfErrorSec()).toBe(3600);
    expect(b.serveStaleWhileRevalidateSec()).toBeUndefined();
  });

  it('must-revalidate, proxy-revalidate and s-maxage forbid serving stale', () => {
    for (const extra of ['must-revalidate', 'proxy-revalidate']) {
      const c = cc(`max-age=12345, stale-while-revalidate=60, stale-if-error=30, ${extra}`);
      expect(c.staleWhileRevalidate()).toBe(60);
      expect(c.staleIfError()).toBe(30);
      expect(c.serveStaleWhileRevalidateSec()).toBe(0);
      expect(c.serveStaleIfErrorSec()).toBe(0);
    }
    const s = cc('s-maxage=0, stale-while-revalidate=60, stale-if-error=30');
    expect(s.serveStaleWhileRevalidateSec()).toBe(0);
    expect(s.serveStaleIfErrorSec()).toBe(0);
  });

  it('authorized requests', () => {
    expect(cc('max-age=10').allowCachingAuthorizedReq()).toBe(false);
    expect(cc('s-maxage=10').allowCachingAuthorizedReq()).toBe(true);
    expect(cc('public').allowCachingAuthorizedReq()).toBe(true);
    expect(cc('must-revalidate, max-age=0').allowCachingAuthorizedReq()).toBe(true);
    expect(cc('').allowCachingAuthorizedReq()).toBe(false);
  });

  it('a malformed s-maxage gives no lifetime rather than falling back to max-age', () => {
    expect(cc('s-maxage=abc, max-age=10').freshSec()).toBeUndefined();
    expect(cc('max-age=abc').freshSec()).toBeUndefined();
  });
});

describe('fractional seconds', () => {
  it('floor parser (Pingora vectors)', () => {
    const f = (s: string) => new DirectiveValue(s).parseAsDeltaSecondsFloor();
    expect(f('10')).toBe(10);
    expect(f('"10"')).toBe(10);
    expect(f('"1.5"')).toBe(1);
    expect(f('0')).toBe(0);
    expect(f('99999999999999999999')).toBe(DELTA_SECONDS_OVERFLOW_VALUE);
    expect(f('1.5')).toBe(1);
    expect(f('1.9')).toBe(1);
    expect(f('0.5')).toBe(0);
    expect(f('3600.0')).toBe(3600);
    expect(f('99999999999.5')).toBe(DELTA_SECONDS_OVERFLOW_VALUE);
    for (const bad of ['-1', '-1.5', 'NaN', 'inf', 'abc']) {
      expect(errContext(() => f(bad))).toBe('could not parse value as u32');
    }
    expect(errContext(() => f('ba\xFFr'))).toBe('could not parse value as utf8');
  });

  it('off by default, floors every delta-seconds directive when on', () => {
    const strict = cc('max-age=10.7');
    expect(strict.allowFloatSeconds).toBe(false);
    expect(errContext(() => strict.maxAge())).toBe('could not parse value as u32');
    expect(strict.freshSec()).toBeUndefined();

    expect(cc('max-age=10.7').withFloatSeconds().freshSec()).toBe(10);
    const s = cc('s-maxage=3600.99, max-age=1800').withFloatSeconds();
    expect(s.sMaxage()).toBe(3600);
    expect(s.freshSec()).toBe(3600);
    const st = cc('max-age=10, stale-while-revalidate=60.5, stale-if-error=30.9').withFloatSeconds();
    expect(st.serveStaleWhileRevalidateSec()).toBe(60);
    expect(st.serveStaleIfErrorSec()).toBe(30);
    expect(cc('max-age=12345').withFloatSeconds().freshSec()).toBe(12345);
    expect(errContext(() => cc('max-age=abc').withFloatSeconds().maxAge())).toBeDefined();
    expect(errContext(() => cc('max-age=-1.5').withFloatSeconds().maxAge())).toBeDefined();
    expect(errContext(() => cc('max-age=ba\xFFr').withFloatSeconds().maxAge())).toBe(
      'could not parse value as utf8',
    );
  });
});
