import { ErrorType, PingoraError } from '@pingora-ts/error';
import { describe, expect, it } from 'vitest';
import { RequestHeader } from './request-header.js';

describe('RequestHeader.fromRaw', () => {
  it('takes ownership of the raw array without copying', () => {
    const raw = ['Host', 'example.com', 'X-A', '1'];
    const req = RequestHeader.fromRaw('GET', '/a', raw, '1.1');
    expect(req.rawHeaders).toBe(raw);
    req.appendHeader('X-B', '2');
    expect(raw).toEqual(['Host', 'example.com', 'X-A', '1', 'X-B', '2']);
  });

  it("accepts Node's httpVersion spellings", () => {
    expect(RequestHeader.fromRaw('GET', '/', [], '1.0').version).toBe('1.0');
    expect(RequestHeader.fromRaw('GET', '/', [], '2.0').version).toBe('2');
    expect(RequestHeader.fromRaw('GET', '/', []).version).toBe('1.1');
    expect(() => RequestHeader.fromRaw('GET', '/', [], '4.2')).toThrowError(/invalid HTTP version "4.2"/);
  });

  it('drops a fragment Node passes through in req.url', () => {
    expect(RequestHeader.fromRaw('GET', '/p?q=1#frag', []).uri).toBe('/p?q=1');
    expect(RequestHeader.fromRaw('GET', '#frag', []).uri).toBe('/');
  });
});

describe('RequestHeader.build', () => {
  it('validates the method as a token', () => {
    expect(RequestHeader.build('PURGE', '/').method).toBe('PURGE');
    expect(() => RequestHeader.build('GE T', '/')).toThrowError(/invalid method "GE T"/);
    expect(() => RequestHeader.build('', '/')).toThrowError(PingoraError);
  });

  it('rejects CR, LF, NUL, space and DEL in the target', () => {
    for (const bad of ['/a b', '/a\r\nX: y', '/a\n', '/\0', '/\x7f', '/\t']) {
      try {
        RequestHeader.build('GET', bad);
        expect.unreachable(bad);
      } catch (e) {
        expect((e as PingoraError).type).toBe(ErrorType.InvalidHTTPHeader);
        expect((e as PingoraError).context).toMatch(/^invalid request target/);
      }
    }
  });

  it('keeps non-UTF-8 bytes verbatim (test_invalid_path)', () => {
    const bytes = Buffer.from('Hello\xF0\x90\x80World', 'latin1');
    const req = RequestHeader.build('GET', bytes);
    expect(req.rawPath().equals(bytes)).toBe(true);
    expect(req.rawPathIsUtf8()).toBe(false);
    expect(req.path()).toBe('/');
  });

  it('origin-form with non-UTF-8 keeps its bytes and its path', () => {
    const bytes = new Uint8Array([0x2f, 0x70, 0x2d, 0xff]); // "/p-\xff"
    const req = RequestHeader.build('GET', bytes);
    expect([...req.rawPath()]).toEqual([...bytes]);
    expect(req.rawPathIsUtf8()).toBe(false);
    expect(req.path()).toBe('/p-\xff');
  });

  it('reports UTF-8 targets as such', () => {
    expect(RequestHeader.build('GET', Buffer.from('/caf\u00e9', 'utf8')).rawPathIsUtf8()).toBe(true);
    expect(RequestHeader.build('GET', '/plain').rawPathIsUtf8()).toBe(true);
  });

  it('drops fragments and maps an empty target to /', () => {
    for (const [target, raw] of [
      ['http://host/p#frag', 'http://host/p'],
      ['http://host#@evil.example/', 'http://host'],
      ['/p#frag', '/p'],
      ['', '/'],
      ['#', '/'],
      ['*#frag', '*'],
      ['?q=1#frag', '?q=1'],
      ['host:443#x', 'host:443'],
    ] as const) {
      expect(RequestHeader.build('GET', target).rawPath().toString('latin1')).toBe(raw);
    }
  });
});

describe('request-target forms', () => {
  it('absolute-form: the path component is exposed, the target kept verbatim', () => {
    const req = RequestHeader.build('GET', 'http://host:8080/path?query=1');
    expect(req.uri).toBe('http://host:8080/path?query=1');
    expect(req.path()).toBe('/path');
    expect(req.query()).toBe('query=1');
  });

  it('absolute-form without path, or with a query only, is anchored at /', () => {
    expect(RequestHeader.build('GET', 'http://host').path()).toBe('/');
    const q = RequestHeader.build('GET', 'http://host?query=1');
    expect(q.path()).toBe('/');
    expect(q.query()).toBe('query=1');
    expect(q.uri).toBe('http://host?query=1');
  });

  it('authority-form, empty authority and unclassifiable targets are rooted', () => {
    for (const t of [
      'example.com:443',
      'http:///path',
      'foo:bar://evil.example/admin',
      'foo/bar',
      'foo?q=1',
    ]) {
      const req = RequestHeader.build('CONNECT', t);
      expect(req.path()).toBe('/');
      expect(req.uri).toBe(t);
    }
    expect(RequestHeader.build('GET', 'foo?q=1').query()).toBeUndefined();
  });

  it('query-only and asterisk-form keep their shape', () => {
    const q = RequestHeader.build('GET', '?q=1');
    expect(q.path()).toBe('/');
    expect(q.query()).toBe('q=1');
    expect(q.uri).toBe('?q=1');
    expect(RequestHeader.build('OPTIONS', '*').path()).toBe('*');
  });

  it('uriFileExtension follows Pingora (everything after the last dot of the path)', () => {
    expect(RequestHeader.build('GET', '/a/b.tar.gz?x=1.2').uriFileExtension()).toBe('gz');
    expect(RequestHeader.build('GET', '/a/b').uriFileExtension()).toBeUndefined();
    expect(RequestHeader.build('GET', '/v1.2/x').uriFileExtension()).toBe('2/x');
    expect(RequestHeader.build('GET', 'http://h.example/i.png').uriFileExtension()).toBe('png');
    expect(RequestHeader.build('GET', '/dir.d/').uriFileExtension()).toBe('d/');
  });
});

describe('setUri / setRawPath', () => {
  it('setUri reduces absolute-form to origin-form (test_set_uri_clears_non_origin_form_target)', () => {
    const req = RequestHeader.build('GET', 'http://host/abs?q=1');
    req.setUri('/replaced');
    expect(req.uri).toBe('/replaced');
    req.setUri('https://other.example/x/y?z=1#f');
    expect(req.uri).toBe('/x/y?z=1');
    req.setUri('?only');
    expect(req.uri).toBe('/?only');
  });

  it('setUri accepts a URL', () => {
    const req = RequestHeader.build('GET', '/');
    req.setUri(new URL('https://example.com/a%20b/c?d=e f#frag'));
    expect(req.uri).toBe('/a%20b/c?d=e%20f');
    req.setUri(new URL('https://example.com'));
    expect(req.uri).toBe('/');
  });

  it('setUri validates', () => {
    const req = RequestHeader.build('GET', '/ok');
    expect(() => req.setUri('/a b')).toThrowError(/invalid request target/);
    expect(req.uri).toBe('/ok');
  });

  it('setRawPath keeps absolute-form and CONNECT targets verbatim', () => {
    const req = RequestHeader.build('GET', '/path-\xff');
    expect(req.rawPathIsUtf8()).toBe(false);
    req.setRawPath('/plain');
    expect(req.uri).toBe('/plain');
    expect(req.rawPathIsUtf8()).toBe(true);
    req.setRawPath(Buffer.from('http://host/abs?q=1'));
    expect(req.uri).toBe('http://host/abs?q=1');
    expect(req.path()).toBe('/abs');
    expect(() => req.setRawPath('/x\r\n')).toThrowError(/invalid request target/);
    expect(req.uri).toBe('http://host/abs?q=1');
  });
});

describe('method, version, END_STREAM, clone', () => {
  it('setMethod validates', () => {
    const req = RequestHeader.build('GET', '/');
    req.setMethod('POST');
    expect(req.method).toBe('POST');
    expect(() => req.setMethod('PO ST')).toThrowError(/invalid method/);
    expect(req.method).toBe('POST');
  });

  it('sendEndStream is defined only for HTTP/2', () => {
    const req = RequestHeader.build('GET', '/');
    expect(req.sendEndStream()).toBeUndefined();
    req.setVersion('2');
    expect(req.sendEndStream()).toBe(true);
    req.setSendEndStream(false);
    expect(req.sendEndStream()).toBe(false);
    req.setVersion('1.1');
    expect(req.sendEndStream()).toBeUndefined();
  });

  it('clone copies the raw array and every field', () => {
    const req = RequestHeader.fromRaw('PUT', '/x', ['Host', 'h'], '2.0');
    req.setSendEndStream(false);
    const c = req.clone();
    c.appendHeader('X', '1');
    expect(req.rawHeaders).toEqual(['Host', 'h']);
    expect(c.rawHeaders).toEqual(['Host', 'h', 'X', '1']);
    expect([c.method, c.uri, c.version, c.sendEndStream(), c.hasCase()]).toEqual([
      'PUT',
      '/x',
      '2',
      false,
      true,
    ]);
    expect(RequestHeader.buildNoCase('GET', '/').clone().hasCase()).toBe(false);
  });
});
