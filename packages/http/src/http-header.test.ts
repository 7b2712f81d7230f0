import { ErrorType, PingoraError } from '@pingora-ts/error';
import { describe, expect, it } from 'vitest';
import * as header from './header-name.js';
import type { HttpHeader } from './http-header.js';
import { RequestHeader } from './request-header.js';
import { ResponseHeader } from './response-header.js';
import { MAX_HEADER_COUNT } from './validate.js';

const wire = (h: HttpHeader) => h.toH1Wire().toString('latin1');

// Each factory: [label, case-preserving header, no-case header]
const kinds: Array<[string, () => HttpHeader, () => HttpHeader]> = [
  ['RequestHeader', () => RequestHeader.build('GET', '/'), () => RequestHeader.buildNoCase('GET', '/')],
  ['ResponseHeader', () => ResponseHeader.build(200), () => ResponseHeader.buildNoCase(200)],
];

describe.each(kinds)('%s: Pingora pingora-http vectors', (_label, build, buildNoCase) => {
  it('test_single_header: insert foo:bar then FoO:Bar', () => {
    const h = build();
    h.insertHeader('foo', 'bar');
    h.insertHeader('FoO', 'Bar');
    expect(wire(h)).toBe('FoO: Bar\r\n');
    expect([...h.headers]).toEqual([['FoO', 'Bar']]);
  });

  it('test_single_header_no_case: no-case writes the lowercase name', () => {
    const h = buildNoCase();
    h.insertHeader('foo', 'bar');
    h.insertHeader('FoO', 'Bar');
    expect(wire(h)).toBe('foo: Bar\r\n');
    expect(h.hasCase()).toBe(false);
  });

  it('test_multiple_header: append FoO, fOO, BAZ, CONTENT_LENGTH, a; remove a', () => {
    const h = build();
    h.appendHeader('FoO', 'Bar');
    h.appendHeader('fOO', 'bar');
    h.appendHeader('BAZ', 'baR');
    h.appendHeader(header.CONTENT_LENGTH, '0');
    h.appendHeader('a', 'b');
    h.removeHeader('a');
    expect(wire(h)).toBe('FoO: Bar\r\nfOO: bar\r\nBAZ: baR\r\nContent-Length: 0\r\n');
    expect([...h.headers]).toEqual([
      ['FoO', 'Bar'],
      ['fOO', 'bar'],
      ['BAZ', 'baR'],
      ['Content-Length', '0'],
    ]);
  });

  it('test_multiple_header no-case: typed constants title-case, others lowercase', () => {
    const h = buildNoCase();
    h.appendHeader('FoO', 'Bar');
    h.appendHeader('fOO', 'bar');
    h.appendHeader('BAZ', 'baR');
    h.appendHeader(header.CONTENT_LENGTH, '0');
    h.appendHeader('a', 'b');
    h.removeHeader('a');
    expect(wire(h)).toBe('foo: Bar\r\nfoo: bar\r\nbaz: baR\r\nContent-Length: 0\r\n');
  });
});

describe('appendHeader', () => {
  it('returns whether the name (case-insensitive) was already present', () => {
    const h = ResponseHeader.build(200);
    expect(h.appendHeader('Set-Cookie', 'a=1')).toBe(false);
    expect(h.appendHeader('set-cookie', 'b=2')).toBe(true);
    expect(h.appendHeader('SET-COOKIE', 'c=3')).toBe(true);
    expect(h.appendHeader('Vary', 'Accept')).toBe(false);
    expect(h.headers.getAll('Set-Cookie')).toEqual(['a=1', 'b=2', 'c=3']);
  });

  it('keeps raw order across names (no grouping at the first occurrence)', () => {
    const h = RequestHeader.build('GET', '/');
    h.appendHeader('a', '1');
    h.appendHeader('b', '2');
    h.appendHeader('A', '3');
    expect(wire(h)).toBe('a: 1\r\nb: 2\r\nA: 3\r\n');
  });

  it('writes numbers and bigints in decimal', () => {
    const h = RequestHeader.build('GET', '/');
    h.appendHeader('X-N', 42);
    h.appendHeader('X-B', 2n ** 64n);
    expect(h.rawHeaders).toEqual(['X-N', '42', 'X-B', '18446744073709551616']);
  });

  it('validates name and value and names the header in the error', () => {
    const h = RequestHeader.build('GET', '/');
    expect(() => h.appendHeader('Bad Name', 'x')).toThrowError(/invalid header name "Bad Name"/);
    try {
      h.appendHeader('X-Evil', 'a\r\nInjected: 1');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(PingoraError);
      expect((e as PingoraError).type).toBe(ErrorType.InvalidHTTPHeader);
      expect((e as PingoraError).context).toBe('invalid value for header "X-Evil"');
      expect(String(e)).not.toContain('Injected');
    }
    expect(h.rawHeaders).toEqual([]);
  });

  it(`refuses to grow past ${MAX_HEADER_COUNT} fields`, () => {
    const h = RequestHeader.build('GET', '/');
    for (let i = 0; i < MAX_HEADER_COUNT; i++) h.rawHeaders.push('x', 'y');
    expect(() => h.appendHeader('x', 'z')).toThrowError(/header count exceeds 4096/);
    expect(() => h.insertHeader('new', 'z')).toThrowError(/header count exceeds 4096/);
    // Replacing an existing name does not grow the header.
    h.insertHeader('x', 'only');
    expect(h.headers.size).toBe(1);
  });
});

describe('insertHeader', () => {
  it('replaces every value at the first position and adopts the new spelling', () => {
    const h = RequestHeader.fromRaw('GET', '/', [
      'X-A',
      '1',
      'Host',
      'h',
      'x-a',
      '2',
      'Accept',
      '*/*',
      'X-a',
      '3',
    ]);
    h.insertHeader('x-A', 'new');
    expect(h.rawHeaders).toEqual(['x-A', 'new', 'Host', 'h', 'Accept', '*/*']);
  });

  it('appends when absent', () => {
    const h = RequestHeader.fromRaw('GET', '/', ['Host', 'h']);
    h.insertHeader('Via', '1.1 pingora');
    expect(h.rawHeaders).toEqual(['Host', 'h', 'Via', '1.1 pingora']);
  });

  it('validates before touching anything', () => {
    const h = RequestHeader.fromRaw('GET', '/', ['Host', 'h']);
    expect(() => h.insertHeader('Host', 'a\nb')).toThrowError(/invalid value for header "Host"/);
    expect(() => h.insertHeader('Ho:st', 'a')).toThrowError(/invalid header name "Ho:st"/);
    expect(h.rawHeaders).toEqual(['Host', 'h']);
  });
});

describe('removeHeader', () => {
  it('removes all values and returns the first', () => {
    const h = RequestHeader.fromRaw('GET', '/', ['A', '1', 'B', '2', 'a', '3', 'C', '4']);
    expect(h.removeHeader('a')).toBe('1');
    expect(h.rawHeaders).toEqual(['B', '2', 'C', '4']);
    expect(h.removeHeader('a')).toBeUndefined();
  });
});

describe('headers view', () => {
  const h = RequestHeader.fromRaw('GET', '/', ['Host', 'a', 'Accept', 'x', 'accept', 'y', 'X-E', '']);

  it('looks up case-insensitively, first value for get', () => {
    expect(h.headers.get('HOST')).toBe('a');
    expect(h.headers.get('ACCEPT')).toBe('x');
    expect(h.headers.getAll('Accept')).toEqual(['x', 'y']);
    expect(h.headers.getAll('missing')).toEqual([]);
    expect(h.headers.get('missing')).toBeUndefined();
    expect(h.headers.get('x-e')).toBe('');
    expect(h.headers.has('x-E')).toBe(true);
    expect(h.headers.has('x-f')).toBe(false);
  });

  it('counts and iterates in wire order with original spelling', () => {
    expect(h.headers.size).toBe(4);
    expect(h.headers.count('accept')).toBe(2);
    expect(h.headers.count()).toBe(4);
    expect([...h.headers.keys()]).toEqual(['Host', 'Accept', 'accept', 'X-E']);
    expect([...h.headers]).toEqual([
      ['Host', 'a'],
      ['Accept', 'x'],
      ['accept', 'y'],
      ['X-E', ''],
    ]);
  });

  it('is one object that follows mutations', () => {
    const r = RequestHeader.build('GET', '/');
    const view = r.headers;
    expect(r.headers).toBe(view);
    r.appendHeader('K', 'v');
    expect(view.get('k')).toBe('v');
  });

  it('does not fold non-letters (@ vs `, [ vs {)', () => {
    const r = RequestHeader.fromRaw('GET', '/', ['a@', '1', 'b[', '2']);
    expect(r.headers.get('a`')).toBeUndefined();
    expect(r.headers.get('b{')).toBeUndefined();
    expect(r.headers.get('A@')).toBe('1');
  });
});

describe('no-case mode', () => {
  it('stores lowercase and title-cases only the well-known names on the wire', () => {
    const h = ResponseHeader.buildNoCase(200);
    h.appendHeader('Content-Type', 'text/plain');
    h.appendHeader('SET-COOKIE', 'a=1');
    h.appendHeader('X-Request-Id', '7');
    h.appendHeader('ETag', '"v"');
    expect(h.rawHeaders).toEqual([
      'content-type',
      'text/plain',
      'set-cookie',
      'a=1',
      'x-request-id',
      '7',
      'etag',
      '"v"',
    ]);
    expect(wire(h)).toBe('Content-Type: text/plain\r\nSet-Cookie: a=1\r\nx-request-id: 7\r\netag: "v"\r\n');
  });
});
