import { ErrorType, type PingoraError } from '@pingora-ts/error';
import { describe, expect, it } from 'vitest';
import { reasonPhrase } from './reason-phrase.js';
import { ResponseHeader } from './response-header.js';

describe('status', () => {
  it('accepts 100..999 integers only', () => {
    expect(ResponseHeader.build(100).status).toBe(100);
    expect(ResponseHeader.build(999).status).toBe(999);
    for (const bad of [99, 1000, 200.5, Number.NaN, -1]) {
      expect(() => ResponseHeader.build(bad)).toThrowError(/invalid status/);
    }
    const r = ResponseHeader.build(200);
    r.setStatus(404);
    expect(r.status).toBe(404);
    try {
      r.setStatus(42);
      expect.unreachable();
    } catch (e) {
      expect((e as PingoraError).type).toBe(ErrorType.InvalidHTTPHeader);
    }
    expect(r.status).toBe(404);
  });
});

describe('reason phrase', () => {
  it("uses the http crate's canonical table", () => {
    expect(reasonPhrase(200)).toBe('OK');
    expect(reasonPhrase(203)).toBe('Non Authoritative Information');
    expect(reasonPhrase(418)).toBe("I'm a teapot");
    expect(reasonPhrase(103)).toBe('Early Hints');
    expect(reasonPhrase(425)).toBe('Too Early');
    expect(reasonPhrase(599)).toBeUndefined();
    expect(reasonPhrase(306)).toBeUndefined();
  });

  it('defaults to the canonical phrase and follows the status', () => {
    const r = ResponseHeader.build(200);
    expect(r.getReasonPhrase()).toBe('OK');
    r.setStatus(502);
    expect(r.getReasonPhrase()).toBe('Bad Gateway');
    r.setStatus(599);
    expect(r.getReasonPhrase()).toBeUndefined();
  });

  it('keeps a custom phrase across status changes; undefined or canonical resets', () => {
    const r = ResponseHeader.build(200);
    r.setReasonPhrase('Fine');
    r.setStatus(201);
    expect(r.getReasonPhrase()).toBe('Fine');
    r.setReasonPhrase(undefined);
    expect(r.getReasonPhrase()).toBe('Created');
    r.setReasonPhrase('Created');
    r.setStatus(404);
    expect(r.getReasonPhrase()).toBe('Not Found');
  });

  it('rejects CR/LF in a reason phrase', () => {
    const r = ResponseHeader.build(200);
    expect(() => r.setReasonPhrase('OK\r\nX: y')).toThrowError(/invalid reason phrase/);
    expect(r.getReasonPhrase()).toBe('OK');
  });

  it('fromRaw stores only a non-canonical phrase, an empty one included', () => {
    expect(ResponseHeader.fromRaw(200, [], 'OK').getReasonPhrase()).toBe('OK');
    expect(ResponseHeader.fromRaw(200, [], 'Alright').getReasonPhrase()).toBe('Alright');
    expect(ResponseHeader.fromRaw(200, [], '').getReasonPhrase()).toBe('');
    expect(ResponseHeader.fromRaw(200, []).getReasonPhrase()).toBe('OK');
  });
});

describe('fromRaw', () => {
  it('owns the array and reads the version', () => {
    const raw = ['Content-Type', 'text/html'];
    const r = ResponseHeader.fromRaw(200, raw, 'OK', '1.0');
    expect(r.rawHeaders).toBe(raw);
    expect(r.version).toBe('1.0');
    expect(r.hasCase()).toBe(true);
  });
});

describe('setContentLength', () => {
  it('inserts Content-Length with the title-case spelling, replacing any other', () => {
    const r = ResponseHeader.fromRaw(200, ['content-length', '10', 'X', 'y', 'Content-length', '11']);
    r.setContentLength(0);
    expect(r.rawHeaders).toEqual(['Content-Length', '0', 'X', 'y']);
    r.setContentLength(2n ** 60n);
    expect(r.headers.get('content-length')).toBe('1152921504606846976');
  });

  it('rejects negative and non-integer lengths', () => {
    const r = ResponseHeader.build(200);
    expect(() => r.setContentLength(-1)).toThrowError(/invalid Content-Length/);
    expect(() => r.setContentLength(1.5)).toThrowError(/invalid Content-Length/);
    expect(() => r.setContentLength(-1n)).toThrowError(/invalid Content-Length/);
    expect(r.rawHeaders).toEqual([]);
  });
});

describe('version and clone', () => {
  it('sets versions and copies deeply', () => {
    const r = ResponseHeader.build(404);
    r.setVersion('1.0');
    r.setReasonPhrase('Gone Fishing');
    r.appendHeader('A', '1');
    const c = r.clone();
    c.appendHeader('B', '2');
    expect(r.rawHeaders).toEqual(['A', '1']);
    expect([c.status, c.version, c.getReasonPhrase(), c.rawHeaders]).toEqual([
      404,
      '1.0',
      'Gone Fishing',
      ['A', '1', 'B', '2'],
    ]);
  });
});
