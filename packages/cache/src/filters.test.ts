import { RequestHeader, ResponseHeader } from '@pingora-ts/http';
import { describe, expect, it } from 'vitest';
import { CacheControl, DELTA_SECONDS_OVERFLOW_VALUE } from './cache-control.js';
import {
  calculateExpiresHeaderTime,
  requestCacheable,
  respCacheable,
  upstreamRequestFilter,
} from './filters.js';
import { formatHttpDate } from './http-date.js';
import { type CacheMeta, CacheMetaDefaults } from './meta.js';

const NOW = 1_700_000_000_000; // fixed clock (ms), a whole second
const sec = (n: number) => NOW + n * 1000;

const DEFAULTS = new CacheMetaDefaults(
  (status) => (status === 200 ? 10 : status === 404 ? 5 : status === 206 ? undefined : 1),
  0,
  DELTA_SECONDS_OVERFLOW_VALUE, // "infinite" stale-if-error
);
const BYPASS = new CacheMetaDefaults(() => undefined, 0, 0);

function build(status: number, headers: [string, string][] = []): ResponseHeader {
  const r = ResponseHeader.build(status);
  for (const [k, v] of headers) r.appendHeader(k, v);
  return r;
}

function cacheable(
  resp: ResponseHeader,
  defaults = DEFAULTS,
  authorization = false,
  now = NOW,
): CacheMeta | undefined {
  return respCacheable(CacheControl.fromHeaders(resp.headers), resp, authorization, defaults, now);
}

describe('requestCacheable', () => {
  it('GET and HEAD only', () => {
    expect(requestCacheable(RequestHeader.build('GET', '/'))).toBe(true);
    expect(requestCacheable(RequestHeader.build('HEAD', '/'))).toBe(true);
    for (const m of ['POST', 'PUT', 'DELETE', 'OPTIONS', 'get']) {
      expect(requestCacheable(RequestHeader.build(m, '/'))).toBe(false);
    }
  });
});

describe('respCacheable (Pingora filters.rs vectors, fixed clock)', () => {
  it('max-age', () => {
    const m = cacheable(build(200, [['Cache-Control', 'max-age=12345']]))!;
    expect(m.created).toBe(NOW);
    expect(m.isFresh(NOW)).toBe(true);
    expect(m.isFresh(sec(12))).toBe(true);
    expect(m.isFresh(sec(12345))).toBe(true);
    expect(m.isFresh(sec(12346))).toBe(false);
  });

  it('private and no-store are uncacheable', () => {
    expect(cacheable(build(200, [['Cache-Control', 'private, max-age=12345']]))).toBeUndefined();
    expect(cacheable(build(200, [['Cache-Control', 'no-store, max-age=12345']]))).toBeUndefined();
  });

  it('Authorization needs s-maxage, public or must-revalidate', () => {
    expect(cacheable(build(200), DEFAULTS, true)).toBeUndefined();
    expect(cacheable(build(200, [['Cache-Control', 'max-age=10']]), DEFAULTS, true)).toBeUndefined();
    expect(cacheable(build(200, [['Cache-Control', 's-maxage=10']]), DEFAULTS, true)?.isFresh(NOW)).toBe(
      true,
    );
    expect(
      cacheable(build(200, [['Cache-Control', 'public, max-age=10']]), DEFAULTS, true)?.isFresh(NOW),
    ).toBe(true);
    // must-revalidate alone: the status default (10 s) applies.
    const m = cacheable(build(200, [['Cache-Control', 'must-revalidate']]), DEFAULTS, true)!;
    expect(m.isFresh(NOW)).toBe(true);
    expect(m.isFresh(sec(11))).toBe(false);
  });

  it('max-age=0 is stored but stale immediately', () => {
    const m = cacheable(build(200, [['Cache-Control', 'max-age=0, public']]))!;
    expect(m.isFresh(NOW)).toBe(false);
    expect(m.freshUntil).toBe(NOW - 1000);
  });

  it('a future Expires without Date is absolute', () => {
    const m = cacheable(build(200, [['Expires', formatHttpDate(sec(5))]]))!;
    expect(m.isFresh(NOW)).toBe(true);
    expect(m.isFresh(sec(5))).toBe(true);
    expect(m.isFresh(sec(6))).toBe(false);
    // Even for statuses the defaults do not cache.
    expect(cacheable(build(206, [['Expires', formatHttpDate(sec(5))]]))).toBeDefined();
  });

  it('past and invalid Expires are stored as stale', () => {
    for (const v of [
      'Fri, 15 May 2015 15:34:21 GMT',
      'Mon, 13 Feb 0002 12:00:00 GMT',
      'Fri, 01 Dec 99999 16:00:00 GMT',
      '0',
    ]) {
      const m = cacheable(build(200, [['Expires', v]]), BYPASS);
      expect(m, v).toBeDefined();
      expect(m!.isFresh(NOW), v).toBe(false);
    }
  });

  it('several Expires are ignored: uncacheable unless the default caches', () => {
    const two: [string, string][] = [
      ['Expires', formatHttpDate(sec(5))],
      ['Expires', formatHttpDate(sec(10))],
    ];
    expect(cacheable(build(200, two), BYPASS)).toBeUndefined();
    expect(cacheable(build(200, two), DEFAULTS)?.freshUntil).toBe(sec(10));
  });

  it('Cache-Control wins over Expires', () => {
    const m = cacheable(
      build(200, [
        ['Expires', formatHttpDate(sec(5))],
        ['Cache-Control', 'max-age=0'],
      ]),
    )!;
    expect(m.isFresh(NOW)).toBe(false);
  });

  it('stale-while-revalidate: defaults, then the directive', () => {
    const d = cacheable(build(200, [['Cache-Control', 'max-age=10']]))!;
    expect(d.isFresh(sec(11))).toBe(false);
    expect(d.canServeStaleWhileRevalidate(NOW)).toBe(false);
    expect(d.canServeStaleWhileRevalidate(sec(11))).toBe(false);

    const m = cacheable(build(200, [['Cache-Control', 'max-age=10, stale-while-revalidate=5']]))!;
    expect(m.isFresh(sec(11))).toBe(false);
    expect(m.canServeStaleWhileRevalidate(sec(11))).toBe(true);
    expect(m.canServeStaleWhileRevalidate(sec(16))).toBe(false);
  });

  it('stale-if-error: infinite default, the directive, and 0', () => {
    const d = cacheable(build(200, [['Cache-Control', 'max-age=10']]))!;
    const fiftyYears = sec(86400 * 365 * 50);
    expect(d.isFresh(fiftyYears)).toBe(false);
    expect(d.canServeStaleIfError(fiftyYears)).toBe(true);

    const m = cacheable(
      build(200, [['Cache-Control', 'max-age=10, stale-while-revalidate=5, stale-if-error=60']]),
    )!;
    expect(m.canServeStaleIfError(NOW)).toBe(true);
    expect(m.canServeStaleIfError(sec(11))).toBe(true);
    expect(m.canServeStaleIfError(sec(70))).toBe(true);
    expect(m.canServeStaleIfError(sec(71))).toBe(false);

    const z = cacheable(build(200, [['Cache-Control', 'max-age=10, stale-if-error=0']]))!;
    expect(z.canServeStaleIfError(sec(11))).toBe(false);
  });

  it('must-revalidate forbids serving stale even with the directives', () => {
    const m = cacheable(
      build(200, [
        ['Cache-Control', 'max-age=10, must-revalidate, stale-while-revalidate=5, stale-if-error=60'],
      ]),
    )!;
    expect(m.staleWhileRevalidateSec).toBe(0);
    expect(m.staleIfErrorSec).toBe(0);
    expect(m.canServeStaleIfError(sec(11))).toBe(false);
  });

  it('status defaults', () => {
    const ok = cacheable(build(200))!;
    expect(ok.isFresh(sec(9))).toBe(true);
    expect(ok.isFresh(sec(11))).toBe(false);
    const nf = cacheable(build(404))!;
    expect(nf.isFresh(sec(4))).toBe(true);
    expect(nf.isFresh(sec(6))).toBe(false);
    expect(cacheable(build(206))).toBeUndefined();
    const pc = cacheable(build(206, [['Cache-Control', 'public, max-age=10']]))!;
    expect(pc.isFresh(sec(9))).toBe(true);
    expect(pc.isFresh(sec(11))).toBe(false);
    const other = cacheable(build(416))!;
    expect(other.isFresh(NOW)).toBe(true);
    expect(other.isFresh(sec(2))).toBe(false);
    // A 304 gets the 200 lifetime.
    expect(cacheable(build(304))!.freshUntil).toBe(sec(10));
  });

  it('strips private="…" and no-cache="…" fields from the stored header', () => {
    const a = cacheable(
      build(200, [
        ['Set-Cookie', 'my-cookie'],
        ['Cache-Control', 'private="something", max-age=10'],
        ['Something', 'foo'],
      ]),
    )!;
    expect(a.headers.has('set-cookie')).toBe(true);
    expect(a.headers.has('something')).toBe(false);

    const b = cacheable(
      build(200, [
        ['Set-Cookie', 'my-cookie'],
        ['Cache-Control', 'max-age=0, no-cache="meta1, SeT-Cookie ,meta2"'],
        ['meta1', 'foo'],
      ]),
    )!;
    expect(b.headers.has('set-cookie')).toBe(false);
    expect(b.headers.has('meta1')).toBe(false);
    expect(b.headers.has('cache-control')).toBe(true);
  });
});

describe('Expires with Date (RFC 9111 §4.2.1)', () => {
  it('the lifetime is Expires − Date, measured from now', () => {
    // An origin clock an hour behind ours: Date and Expires both lag, the 60 s lifetime stays.
    const resp = build(200, [
      ['Date', formatHttpDate(sec(-3600))],
      ['Expires', formatHttpDate(sec(-3540))],
    ]);
    expect(calculateExpiresHeaderTime(resp, NOW)).toBe(sec(60));
    expect(cacheable(resp, BYPASS)?.isFresh(sec(59))).toBe(true);
  });

  it('Expires at or before Date is stale; an invalid Date falls back to absolute Expires', () => {
    const same = build(200, [
      ['Date', formatHttpDate(NOW)],
      ['Expires', formatHttpDate(NOW)],
    ]);
    expect(cacheable(same, BYPASS)?.isFresh(NOW)).toBe(false);
    const badDate = build(200, [
      ['Date', 'yesterday'],
      ['Expires', formatHttpDate(sec(30))],
    ]);
    expect(calculateExpiresHeaderTime(badDate, NOW)).toBe(sec(30));
  });
});

describe('ownership', () => {
  it('the meta keeps the header it was given; a clone leaves the original intact', () => {
    const resp = build(200, [
      ['Cache-Control', 'private="x-secret", max-age=10'],
      ['X-Secret', 's'],
    ]);
    const m = respCacheable(CacheControl.fromHeaders(resp.headers), resp.clone(), false, DEFAULTS, NOW)!;
    expect(m.headers.has('x-secret')).toBe(false);
    expect(resp.headers.get('x-secret')).toBe('s');
  });
});

describe('upstreamRequestFilter', () => {
  const conditional = (): RequestHeader =>
    RequestHeader.fromRaw('HEAD', '/a', [
      'Host',
      'h',
      'If-None-Match',
      '"old"',
      'If-Match',
      '"m"',
      'if-modified-since',
      'Fri, 15 May 2015 15:34:21 GMT',
      'If-Unmodified-Since',
      'Fri, 15 May 2015 15:34:21 GMT',
      'If-Range',
      '"r"',
      'Range',
      'bytes=0-1',
      'Accept',
      '*/*',
    ]);

  it('turns HEAD into GET and drops preconditions and Range', () => {
    const req = conditional();
    upstreamRequestFilter(req);
    expect(req.method).toBe('GET');
    expect([...req.headers.keys()]).toEqual(['Host', 'Accept']);
  });

  it('adds the stored validators when revalidating', () => {
    const stored = cacheable(
      build(200, [
        ['Cache-Control', 'max-age=10'],
        ['ETag', '"v1"'],
        ['Last-Modified', 'Wed, 01 Jan 2025 00:00:00 GMT'],
      ]),
    )!;
    const req = conditional();
    upstreamRequestFilter(req, stored);
    expect(req.headers.getAll('if-none-match')).toEqual(['"v1"']);
    expect(req.headers.getAll('if-modified-since')).toEqual(['Wed, 01 Jan 2025 00:00:00 GMT']);
    expect(req.headers.has('range')).toBe(false);
    const none = RequestHeader.fromRaw('GET', '/a', ['Host', 'h']);
    upstreamRequestFilter(none, cacheable(build(200, [['Cache-Control', 'max-age=10']]))!);
    expect(none.headers.has('if-none-match')).toBe(false);
    expect(none.headers.has('if-modified-since')).toBe(false);
  });
});
