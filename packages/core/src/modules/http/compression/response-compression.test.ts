import { isPingoraError } from '@pingora-ts/error';
import { RequestHeader, ResponseHeader } from '@pingora-ts/http';
import { describe, expect, it } from 'vitest';
import { ZSTD_AVAILABLE } from './algorithm.js';
import { ResponseCompressionBuilder } from './builder.js';
import { ResponseCompression, type ResponseCompressionOptions } from './response-compression.js';

function request(acceptEncoding: string | undefined, method = 'GET'): RequestHeader {
  const req = RequestHeader.build(method, '/');
  if (acceptEncoding !== undefined) req.insertHeader('Accept-Encoding', acceptEncoding);
  return req;
}

function response(status: number, fields: Record<string, string> = {}): ResponseHeader {
  const resp = ResponseHeader.build(status);
  for (const [name, value] of Object.entries(fields)) resp.appendHeader(name, value);
  return resp;
}

const html = (more: Record<string, string> = {}) => ({
  'Content-Type': 'text/html; charset=utf-8',
  'Content-Length': '10000',
  ...more,
});

/** Runs both header hooks; returns the module and the (edited) response. */
function decide(
  acceptEncoding: string | undefined,
  resp: ResponseHeader,
  options: ResponseCompressionOptions = { level: 6 },
  { method = 'GET', endOfStream = false } = {},
): { m: ResponseCompression; resp: ResponseHeader } {
  const m = new ResponseCompression(options);
  m.requestHeaderFilter(request(acceptEncoding, method));
  m.responseHeaderFilter(resp, endOfStream);
  return { m, resp };
}

describe('ResponseCompression: deciding to compress', () => {
  it('compresses with the best accepted coding and rewrites the header', () => {
    const { m, resp } = decide(
      'gzip, br;q=0.9',
      response(200, html({ ETag: '"v1"', 'Accept-Ranges': 'bytes', Vary: 'Origin' })),
    );
    expect(m.getInfo()).toEqual({ algorithm: 'gzip', action: 'compress', bytesIn: 0, bytesOut: 0 });
    expect(m.isEnabled()).toBe(true);
    expect(resp.headers.get('content-encoding')).toBe('gzip');
    expect(resp.headers.has('content-length')).toBe(false);
    expect(resp.headers.has('accept-ranges')).toBe(false);
    expect(resp.headers.get('etag')).toBe('W/"v1"');
    expect(resp.headers.getAll('vary')).toEqual(['Origin, Accept-Encoding']);
    expect(m.responseBodyStream()).toBeDefined();
  });

  it('prefers zstd, then br, then gzip when the client rates them equally', () => {
    const { m } = decide('gzip, deflate, br, zstd', response(200, html()));
    expect(m.getInfo().algorithm).toBe(ZSTD_AVAILABLE ? 'zstd' : 'br');
  });

  it('honours q-values over the server preference', () => {
    expect(decide('br;q=0.2, gzip;q=0.9', response(200, html())).m.getInfo().algorithm).toBe('gzip');
    const refused = decide('gzip;q=0, identity', response(200, html()));
    expect(refused.m.getInfo().action).toBe('none');
    expect(refused.resp.headers.get('vary')).toBe('Accept-Encoding');
  });

  it('leaves the body alone but still varies when the client sent no Accept-Encoding', () => {
    const { m, resp } = decide(undefined, response(200, html({ ETag: '"v1"' })));
    expect(m.getInfo().action).toBe('none');
    expect(m.responseBodyStream()).toBeUndefined();
    expect(resp.headers.get('content-length')).toBe('10000');
    expect(resp.headers.get('etag')).toBe('"v1"');
    expect(resp.headers.get('vary')).toBe('Accept-Encoding');
  });

  it('keeps the ETag strong with preserveEtag, and removes an invalid one otherwise', () => {
    const kept = decide('gzip', response(200, html({ ETag: '"v1"' })), { level: 6, preserveEtag: true });
    expect(kept.resp.headers.get('etag')).toBe('"v1"');
    const adjusted = new ResponseCompression({ level: 6 });
    adjusted.adjustPreserveEtag(true);
    adjusted.requestHeaderFilter(request('gzip'));
    const r = response(200, html({ ETag: '"v1"' }));
    adjusted.responseHeaderFilter(r, false);
    expect(r.headers.get('etag')).toBe('"v1"');
    expect(decide('gzip', response(200, html({ ETag: 'W/"v1"' }))).resp.headers.get('etag')).toBe('W/"v1"');
    expect(decide('gzip', response(200, html({ ETag: 'v1' }))).resp.headers.has('etag')).toBe(false);
  });

  it.each([
    [{ Vary: 'accept-encoding' }, ['accept-encoding']],
    [{ Vary: 'Origin, ACCEPT-ENCODING' }, ['Origin, ACCEPT-ENCODING']],
    [{ Vary: '*' }, ['*']],
    [{ Vary: 'Origin,  Cookie' }, ['Origin, Cookie, Accept-Encoding']],
    [{ Vary: '' }, ['Accept-Encoding']],
  ])('merges Vary %j into %j', (fields, expected) => {
    expect(decide('gzip', response(200, html(fields))).resp.headers.getAll('vary')).toEqual(expected);
  });

  it('merges several Vary fields into one', () => {
    const resp = response(200, html({ Vary: 'Origin' }));
    resp.appendHeader('vary', 'Cookie');
    decide('gzip', resp);
    expect(resp.headers.getAll('vary')).toEqual(['Origin, Cookie, Accept-Encoding']);
  });
});

describe('ResponseCompression: skip rules', () => {
  const cases: Array<[string, ResponseHeader, { method?: string; endOfStream?: boolean }?]> = [
    ['204', response(204, html())],
    ['304', response(304, html())],
    ['206', response(206, html({ 'Content-Range': 'bytes 0-9999/20000' }))],
    ['Content-Range on a 200', response(200, html({ 'Content-Range': 'bytes 0-9999/20000' }))],
    ['HEAD', response(200, html()), { method: 'HEAD' }],
    ['no body (end of stream)', response(200, html()), { endOfStream: true }],
    ['already gzip', response(200, html({ 'Content-Encoding': 'gzip' }))],
    ['an unknown coding', response(200, html({ 'Content-Encoding': 'deflate' }))],
    ['no-transform', response(200, html({ 'Cache-Control': 'public, No-Transform' }))],
    ['a body under 256 bytes', response(200, html({ 'Content-Length': '255' }))],
    ['an empty body', response(200, html({ 'Content-Length': '0' }))],
    ['no Content-Type', response(200, { 'Content-Length': '10000' })],
    ['image/png', response(200, html({ 'Content-Type': 'image/png' }))],
    ['video/mp4', response(200, html({ 'Content-Type': 'video/mp4' }))],
    ['audio/mpeg', response(200, html({ 'Content-Type': 'audio/mpeg' }))],
    ['application/zip', response(200, html({ 'Content-Type': 'application/zip' }))],
    ['application/gzip', response(200, html({ 'Content-Type': 'application/gzip' }))],
    ['application/epub+zip', response(200, html({ 'Content-Type': 'application/epub+zip' }))],
    ['application/octet-stream', response(200, html({ 'Content-Type': 'Application/Octet-Stream' }))],
    ['font/woff2', response(200, html({ 'Content-Type': 'font/woff2' }))],
    ['multipart/x-mixed-replace', response(200, html({ 'Content-Type': 'multipart/x-mixed-replace' }))],
  ];

  it.each(cases)('does not compress: %s', (_name, resp, how) => {
    const before = [...resp.rawHeaders];
    const { m } = decide('gzip, br, zstd', resp, { level: 6 }, how);
    expect(m.getInfo().action).toBe('none');
    expect(m.isEnabled()).toBe(false);
    expect(m.responseBodyStream()).toBeUndefined();
    expect(resp.rawHeaders).toEqual(before);
  });

  it.each([
    ['image/svg+xml', { 'Content-Type': 'image/svg+xml' }],
    ['text/event-stream without a length', { 'Content-Type': 'text/event-stream', 'Content-Length': '' }],
    ['application/json', { 'Content-Type': 'application/json' }],
    ['a body of exactly 256 bytes', { 'Content-Length': '256' }],
    ['Content-Encoding: identity', { 'Content-Encoding': 'identity' }],
  ])('compresses %s', (_name, fields) => {
    const resp = response(200, html(fields));
    if (resp.headers.get('content-length') === '') resp.removeHeader('content-length');
    const { m } = decide('gzip', resp);
    expect(m.getInfo().action).toBe('compress');
    expect(resp.headers.get('content-encoding')).toBe('gzip');
  });

  it('waits for the final header past a 1xx, and leaves a 101 alone', () => {
    const m = new ResponseCompression({ level: 6 });
    m.requestHeaderFilter(request('gzip'));
    m.responseHeaderFilter(response(103, { Link: '</a.css>; rel=preload' }), false);
    expect(m.isEnabled()).toBe(true);
    const resp = response(200, html());
    m.responseHeaderFilter(resp, false);
    expect(m.getInfo().action).toBe('compress');

    const upgrade = new ResponseCompression({ level: 6 });
    upgrade.requestHeaderFilter(request('gzip'));
    upgrade.responseHeaderFilter(response(101, { Upgrade: 'websocket', 'Content-Type': 'text/html' }), false);
    upgrade.responseHeaderFilter(response(200, html()), false);
    expect(upgrade.getInfo().action).toBe('none');
  });

  it('does nothing when disabled (level 0, the default)', () => {
    const resp = response(200, html());
    const before = [...resp.rawHeaders];
    const { m } = decide('gzip', resp, {});
    expect(m.getInfo().action).toBe('none');
    expect(resp.rawHeaders).toEqual(before);
  });
});

describe('ResponseCompression: decompression', () => {
  it('decompresses a coding the client does not accept', () => {
    for (const [coding, algorithm] of [
      ['gzip', 'gzip'],
      ['X-GZIP', 'gzip'],
      ['br', 'br'],
    ] as const) {
      const resp = response(200, html({ 'Content-Encoding': coding, ETag: '"z"', 'Accept-Ranges': 'bytes' }));
      const { m } = decide('identity', resp, { decompress: true });
      expect(m.getInfo()).toMatchObject({ action: 'decompress', algorithm });
      expect(resp.headers.has('content-encoding')).toBe(false);
      expect(resp.headers.has('content-length')).toBe(false);
      expect(resp.headers.has('accept-ranges')).toBe(false);
      expect(resp.headers.get('etag')).toBe('W/"z"');
      expect(resp.headers.get('vary')).toBe('Accept-Encoding');
    }
  });

  it('decompresses for a client with no Accept-Encoding, whatever the type or size', () => {
    const resp = response(200, {
      'Content-Type': 'image/png',
      'Content-Length': '12',
      'Content-Encoding': 'gzip',
    });
    expect(decide(undefined, resp, { decompress: true }).m.getInfo().action).toBe('decompress');
  });

  it('passes the coding through when the client accepts it, or by q=0 / * rules', () => {
    const cases: Array<[string, string, string]> = [
      ['gzip', 'gzip', 'none'],
      ['br, gzip', 'br', 'none'],
      ['*', 'br', 'none'],
      ['br;q=0, gzip', 'br', 'decompress'],
      ['*;q=0', 'gzip', 'decompress'],
      ['gzip', 'deflate', 'none'], // cannot decode it: untouched
      ['gzip', 'br, gzip', 'none'], // stacked codings: untouched
    ];
    for (const [ae, ce, action] of cases) {
      const { m } = decide(ae, response(200, html({ 'Content-Encoding': ce })), { decompress: true });
      expect([ae, ce, m.getInfo().action]).toEqual([ae, ce, action]);
    }
  });

  it('does not decompress when decompression is off, under no-transform, or for a range', () => {
    const off = decide('identity', response(200, html({ 'Content-Encoding': 'gzip' })), { level: 6 });
    expect(off.m.getInfo().action).toBe('none');
    expect(off.resp.headers.get('content-encoding')).toBe('gzip');
    const nt = html({ 'Content-Encoding': 'gzip', 'Cache-Control': 'no-transform' });
    expect(decide(undefined, response(200, nt), { decompress: true }).m.getInfo().action).toBe('none');
    const range = html({ 'Content-Encoding': 'gzip', 'Content-Range': 'bytes 0-9/100' });
    expect(decide(undefined, response(206, range), { decompress: true }).m.getInfo().action).toBe('none');
  });

  it('can be turned on per request with adjustDecompression', () => {
    const m = new ResponseCompression();
    expect(m.isEnabled()).toBe(false);
    m.adjustDecompression(true);
    expect(m.isEnabled()).toBe(true);
    m.requestHeaderFilter(request(undefined));
    m.responseHeaderFilter(response(200, html({ 'Content-Encoding': 'br' })), false);
    expect(m.getInfo()).toMatchObject({ action: 'decompress', algorithm: 'br' });
  });
});

describe('ResponseCompression: levels and settings', () => {
  it('adjustLevel(0) disables, a non-zero level enables', () => {
    const m = new ResponseCompression({ level: 6 });
    m.adjustLevel(0);
    expect(m.isEnabled()).toBe(false);
    m.adjustLevel(3);
    expect(m.isEnabled()).toBe(true);
  });

  it('adjustAlgorithmLevel(…, 0) withdraws one coding', () => {
    const m = new ResponseCompression({ level: 6 });
    m.adjustAlgorithmLevel('br', 0);
    m.adjustAlgorithmLevel('zstd', 0);
    m.requestHeaderFilter(request('br, zstd, gzip;q=0.1'));
    m.responseHeaderFilter(response(200, html()), false);
    expect(m.getInfo().algorithm).toBe('gzip');
  });

  it('rejects levels that are not non-negative integers', () => {
    expect(() => new ResponseCompression({ level: -1 })).toThrow(RangeError);
    expect(() => new ResponseCompression().adjustLevel(1.5)).toThrow(RangeError);
    expect(() => new ResponseCompression().adjustAlgorithmLevel('gzip', Number.NaN)).toThrow(RangeError);
    expect(() => ResponseCompressionBuilder.enable(-3)).toThrow(RangeError);
  });

  it('refuses adjustments once the response header was filtered', () => {
    const { m } = decide('gzip', response(200, html()));
    for (const adjust of [
      () => m.adjustLevel(1),
      () => m.adjustAlgorithmLevel('gzip', 1),
      () => m.adjustDecompression(true),
      () => m.adjustPreserveEtag(true),
    ]) {
      let error: unknown;
      try {
        adjust();
      } catch (e) {
        error = e;
      }
      expect(isPingoraError(error)).toBe(true);
    }
  });

  it('does not modify the request', () => {
    const req = request('gzip, br');
    const before = [...req.rawHeaders];
    new ResponseCompression({ level: 6 }).requestHeaderFilter(req);
    expect(req.rawHeaders).toEqual(before);
  });

  it('joins several Accept-Encoding fields', () => {
    const m = new ResponseCompression({ level: 6 });
    const req = request('gzip;q=0.1');
    req.appendHeader('accept-encoding', 'br');
    m.requestHeaderFilter(req);
    m.responseHeaderFilter(response(200, html()), false);
    expect(m.getInfo().algorithm).toBe('br');
  });
});

describe('ResponseCompressionBuilder', () => {
  it('makes a fresh module per request at the given level and runs late', () => {
    const builder = ResponseCompressionBuilder.enable(5);
    const a = builder.init();
    const b = builder.init();
    expect(a).toBeInstanceOf(ResponseCompression);
    expect(a).not.toBe(b);
    expect(a.isEnabled()).toBe(true);
    expect(builder.order).toBeLessThan(0);
    a.requestHeaderFilter(request('gzip'));
    a.responseHeaderFilter(response(200, html()), false);
    expect(a.getInfo().action).toBe('compress');
    expect(b.getInfo().action).toBe('none');
  });

  it('enable(0) registers the module disabled, and a request can turn it on', () => {
    const m = ResponseCompressionBuilder.enable(0).init();
    expect(m.isEnabled()).toBe(false);
    m.adjustLevel(4);
    m.requestHeaderFilter(request('gzip'));
    m.responseHeaderFilter(response(200, html()), false);
    expect(m.getInfo().action).toBe('compress');
  });
});
