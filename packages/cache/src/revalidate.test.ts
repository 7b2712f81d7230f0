import { ResponseHeader } from '@pingora-ts/http';
import { describe, expect, it } from 'vitest';
import { respCacheable } from './filters.js';
import { CacheControl } from './cache-control.js';
import { type CacheMeta, CacheMetaDefaults } from './meta.js';
import { REVALIDATION_FIELDS, mergeRevalidation, revalidatedMeta } from './revalidate.js';

const T0 = Date.UTC(2024, 0, 1, 0, 0, 0);
const LATER = T0 + 3_600_000;
// 60 s for a 200 when the headers say nothing; nothing else is cacheable by default.
const defaults = new CacheMetaDefaults((s) => (s === 200 ? 60 : undefined), 5, 30);

function head(status: number, fields: [string, string][]): ResponseHeader {
  const r = ResponseHeader.build(status);
  for (const [n, v] of fields) r.appendHeader(n, v);
  return r;
}

function storedMeta(fields: [string, string][]): CacheMeta {
  const resp = head(200, fields);
  const meta = respCacheable(CacheControl.fromHeaders(resp.headers), resp, false, defaults, T0);
  if (meta === undefined) throw new Error('fixture must be cacheable');
  return meta;
}

const STORED: [string, string][] = [
  ['Content-Type', 'text/html'],
  ['Content-Length', '1234'],
  ['ETag', '"v1"'],
  ['Cache-Control', 'max-age=10'],
  ['Vary', 'Accept-Encoding'],
  ['X-Kept', 'yes'],
];

describe('mergeRevalidation', () => {
  it('replaces the ETag and leaves the other stored fields and the status alone', () => {
    const meta = storedMeta(STORED);
    const merged = mergeRevalidation(meta, head(304, [['ETag', '"v2"']]));
    expect(merged.status).toBe(200);
    expect(merged.headers.getAll('etag')).toEqual(['"v2"']);
    expect(merged.headers.get('x-kept')).toBe('yes');
    expect(merged.headers.get('content-type')).toBe('text/html');
    // The stored meta is not touched.
    expect(meta.headers.get('etag')).toBe('"v1"');
  });

  it('never takes framing, coding, range, Vary or hop-by-hop fields from the 304', () => {
    const merged = mergeRevalidation(
      storedMeta(STORED),
      head(304, [
        ['Content-Length', '0'],
        ['Transfer-Encoding', 'chunked'],
        ['Content-Encoding', 'gzip'],
        ['Content-Range', 'bytes 0-0/1'],
        ['Vary', 'Cookie'],
        ['Connection', 'keep-alive, X-Hop'],
        ['Keep-Alive', 'timeout=5'],
        ['X-Hop', '1'],
        ['X-New', 'n'],
      ]),
      'all',
    );
    expect(merged.headers.getAll('content-length')).toEqual(['1234']);
    expect(merged.headers.getAll('vary')).toEqual(['Accept-Encoding']);
    for (const gone of [
      'transfer-encoding',
      'content-encoding',
      'content-range',
      'connection',
      'keep-alive',
      'x-hop',
    ]) {
      expect(merged.headers.has(gone), gone).toBe(false);
    }
    expect(merged.headers.get('x-new')).toBe('n');
  });

  it('replaces every stored line of a name with every 304 line, case-insensitively', () => {
    const meta = storedMeta([
      ['Link', '</a>; rel=preload'],
      ['Link', '</b>; rel=preload'],
      ['Cache-Control', 'max-age=10'],
    ]);
    const merged = mergeRevalidation(
      meta,
      head(304, [
        ['link', '</c>; rel=preload'],
        ['LINK', '</d>; rel=preload'],
      ]),
      'all',
    );
    expect(merged.headers.getAll('link')).toEqual(['</c>; rel=preload', '</d>; rel=preload']);
  });

  it('by default takes only freshness and the validator (Pingora and nginx keep the rest)', () => {
    const merged = mergeRevalidation(
      storedMeta([
        ['ETag', '"v1"'],
        ['Cache-Control', 'max-age=10'],
        ['X-Epoch', '1'],
      ]),
      head(304, [
        ['ETag', '"v2"'],
        ['Cache-Control', 'max-age=60'],
        ['Expires', 'Thu, 01 Jan 2099 00:00:00 GMT'],
        ['X-Epoch', '2'],
        ['Set-Cookie', 'a=b'],
      ]),
    );
    expect(merged.headers.get('etag')).toBe('"v2"');
    expect(merged.headers.get('cache-control')).toBe('max-age=60');
    expect(merged.headers.get('expires')).toBe('Thu, 01 Jan 2099 00:00:00 GMT');
    expect(merged.headers.get('x-epoch')).toBe('1');
    expect(merged.headers.has('set-cookie')).toBe(false);
    expect(REVALIDATION_FIELDS).toContain('cdn-cache-control');
  });

  it('drops a 304 field with an invalid value instead of throwing', () => {
    const bad = ResponseHeader.fromRaw(304, ['ETag', '"v2"', 'X-Bad', 'a\nb']);
    const merged = mergeRevalidation(storedMeta(STORED), bad);
    expect(merged.headers.get('etag')).toBe('"v2"');
    expect(merged.headers.has('x-bad')).toBe(false);
  });
});

describe('revalidatedMeta', () => {
  it('extends freshness from the new Cache-Control and keeps created, variance and extensions', () => {
    const old = storedMeta(STORED);
    old.setVariance(new Uint8Array(16).fill(7));
    old.extensions.tag = 'x';
    expect(old.isFresh(LATER)).toBe(false);
    const meta = revalidatedMeta(
      old,
      head(304, [['Cache-Control', 'max-age=600, stale-if-error=99']]),
      defaults,
      {
        now: LATER,
      },
    );
    expect(meta).toBeDefined();
    expect(meta!.freshUntil).toBe(LATER + 600_000);
    expect(meta!.created).toBe(T0);
    expect(meta!.updated).toBe(LATER);
    expect(meta!.staleIfErrorSec).toBe(99);
    expect(meta!.staleWhileRevalidateSec).toBe(5);
    expect(meta!.variance).toEqual(new Uint8Array(16).fill(7));
    expect(meta!.extensions.tag).toBe('x');
    expect(meta!.headers.getAll('content-length')).toEqual(['1234']);
    expect(meta!.headers.get('cache-control')).toBe('max-age=600, stale-if-error=99');
  });

  it('recomputes from the stored Cache-Control when the 304 sends none', () => {
    const meta = revalidatedMeta(storedMeta(STORED), head(304, [['ETag', '"v2"']]), defaults, { now: LATER });
    expect(meta!.freshUntil).toBe(LATER + 10_000);
    expect(meta!.headers.get('etag')).toBe('"v2"');
  });

  it('uses the 200 default lifetime when neither response states one', () => {
    const old = storedMeta([['ETag', '"v1"']]);
    const meta = revalidatedMeta(old, head(304, [['ETag', '"v1"']]), defaults, { now: LATER });
    expect(meta!.freshUntil).toBe(LATER + 60_000);
  });

  it('returns undefined when the merged response is no longer cacheable', () => {
    const old = storedMeta(STORED);
    expect(
      revalidatedMeta(old, head(304, [['Cache-Control', 'no-store']]), defaults, { now: LATER }),
    ).toBeUndefined();
    expect(
      revalidatedMeta(old, head(304, [['Cache-Control', 'private']]), defaults, { now: LATER }),
    ).toBeUndefined();
  });

  it('applies the Authorization rule to the merged response', () => {
    const old = storedMeta(STORED);
    const plain = head(304, [['Cache-Control', 'max-age=600']]);
    expect(revalidatedMeta(old, plain, defaults, { now: LATER, authorizationPresent: true })).toBeUndefined();
    const pub = head(304, [['Cache-Control', 'public, max-age=600']]);
    expect(revalidatedMeta(old, pub, defaults, { now: LATER, authorizationPresent: true })?.freshUntil).toBe(
      LATER + 600_000,
    );
  });
});
