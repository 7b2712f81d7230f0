import { ErrorType, isPingoraError, type PingoraError } from '@pingora-ts/error';
import { describe, expect, it } from 'vitest';
import { eqIgnoreCase, hasListToken } from './raw.js';
import {
  isToken,
  isValidHeaderValue,
  MAX_HEADER_COUNT,
  validateHeaderName,
  validateHeaderValue,
  validateMethod,
  validateRawHeaders,
  validateRequestTarget,
} from './validate.js';

function thrown(fn: () => void): PingoraError {
  try {
    fn();
  } catch (e) {
    if (isPingoraError(e)) return e;
    throw e;
  }
  throw new Error('did not throw');
}

describe('header names', () => {
  it('accepts every tchar and nothing else', () => {
    expect(isToken("!#$%&'*+-.^_`|~09AZaz")).toBe(true);
    for (let c = 0; c < 256; c++) {
      const ch = String.fromCharCode(c);
      const expected = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]$/.test(ch);
      expect(isToken(`a${ch}`), `0x${c.toString(16)}`).toBe(expected);
    }
    expect(isToken('')).toBe(false);
    expect(isToken('na\u0100me')).toBe(false);
  });

  it('throws InvalidHTTPHeader naming the header', () => {
    const e = thrown(() => validateHeaderName('X Bad:\r\n'));
    expect(e.type).toBe(ErrorType.InvalidHTTPHeader);
    expect(e.context).toBe('invalid header name "X Bad:\\r\\n"');
    expect(String(e)).toContain('InvalidHTTPHeader');
    expect(() => validateHeaderName('X-Good')).not.toThrow();
    expect(() => validateHeaderName(':authority')).toThrow();
  });
});

describe('header values', () => {
  it('rejects CTLs except HTAB, DEL and characters above 0xFF; allows obs-text', () => {
    expect(isValidHeaderValue('')).toBe(true);
    expect(isValidHeaderValue(' a\tb ~')).toBe(true);
    expect(isValidHeaderValue('caf\u00e9 \u00ff')).toBe(true);
    for (let c = 0; c < 0x20; c++) {
      expect(isValidHeaderValue(`a${String.fromCharCode(c)}b`), `0x${c.toString(16)}`).toBe(c === 0x09);
    }
    expect(isValidHeaderValue('a\x7fb')).toBe(false);
    expect(isValidHeaderValue('\u0100')).toBe(false);
    expect(isValidHeaderValue('\u{1f600}')).toBe(false);
  });

  it('names the header but never echoes the value', () => {
    const e = thrown(() => validateHeaderValue('secret\r\nX: 1', 'Authorization'));
    expect(e.context).toBe('invalid value for header "Authorization"');
    expect(String(e)).not.toContain('secret');
  });
});

describe('method and target', () => {
  it('validates methods as tokens', () => {
    expect(() => validateMethod('M-SEARCH')).not.toThrow();
    expect(thrown(() => validateMethod('GET /')).context).toBe('invalid method "GET /"');
  });

  it('rejects space, CTLs, DEL and non-latin1 in targets', () => {
    expect(() => validateRequestTarget('/a/b?c=d&e=%20')).not.toThrow();
    expect(() => validateRequestTarget('/\xff')).not.toThrow();
    for (const bad of ['/ ', '/\r', '/\n', '/\0', '/\x7f', '/\u0100']) {
      expect(thrown(() => validateRequestTarget(bad)).type).toBe(ErrorType.InvalidHTTPHeader);
    }
  });
});

describe('validateRawHeaders', () => {
  it('checks shape, count, names and values', () => {
    expect(() => validateRawHeaders(['A', '1', 'b', ''])).not.toThrow();
    expect(thrown(() => validateRawHeaders(['A'])).context).toBe('raw header array has an odd length');
    expect(thrown(() => validateRawHeaders(['A', '1', 'B C', '2'])).context).toBe(
      'invalid header name "B C"',
    );
    expect(thrown(() => validateRawHeaders(['A', '1\n'])).context).toBe('invalid value for header "A"');
    const big = new Array<string>((MAX_HEADER_COUNT + 1) * 2).fill('x');
    expect(thrown(() => validateRawHeaders(big)).context).toBe('more than 4096 headers');
  });
});

describe('raw helpers', () => {
  it('eqIgnoreCase folds ASCII letters only', () => {
    expect(eqIgnoreCase('Content-Type', 'content-TYPE')).toBe(true);
    expect(eqIgnoreCase('a', 'ab')).toBe(false);
    expect(eqIgnoreCase('@', '`')).toBe(false);
    expect(eqIgnoreCase('[', '{')).toBe(false);
    expect(eqIgnoreCase('\u00c9', '\u00e9')).toBe(false);
  });

  it('hasListToken trims OWS and ignores case', () => {
    expect(hasListToken('trailers', 'trailers')).toBe(true);
    expect(hasListToken('gzip,\t TRAILERS ', 'trailers')).toBe(true);
    expect(hasListToken('gzip, trailers2', 'trailers')).toBe(false);
    expect(hasListToken('', 'trailers')).toBe(false);
  });
});
