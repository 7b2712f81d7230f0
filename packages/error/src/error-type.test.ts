import { describe, expect, it } from 'vitest';
import { ErrorType } from './error-type.js';

describe('ErrorType', () => {
  it('has every Pingora variant with a unique stable code', () => {
    expect(ErrorType.builtins).toHaveLength(29);
    const codes = new Set(ErrorType.builtins.map((t) => t.code));
    expect(codes.size).toBe(29);
    expect(ErrorType.ConnectTimedout.code).toBe('PGR_ERR_CONNECT_TIMEDOUT');
    expect(ErrorType.TLSWantX509Lookup.code).toBe('PGR_ERR_TLS_WANT_X509_LOOKUP');
    expect(ErrorType.InvalidHTTPHeader.code).toBe('PGR_ERR_INVALID_HTTP_HEADER');
    expect(ErrorType.H2Downgrade.code).toBe('PGR_ERR_H2_DOWNGRADE');
    expect(ErrorType.InvalidH2.code).toBe('PGR_ERR_INVALID_H2');
    expect(ErrorType.H1Error.code).toBe('PGR_ERR_H1_ERROR');
  });

  it('as_str: variant name, HTTPStatus without code, custom names', () => {
    expect(ErrorType.ReadError.toString()).toBe('ReadError');
    expect(ErrorType.HTTPStatus(503).toString()).toBe('HTTPStatus');
    expect(ErrorType.HTTPStatus(503).status).toBe(503);
    expect(ErrorType.Custom('boom').toString()).toBe('boom');
    expect(ErrorType.CustomCode('non 200 code', 500).status).toBe(500);
  });

  it('compares structurally', () => {
    expect(ErrorType.HTTPStatus(404).equals(ErrorType.HTTPStatus(404))).toBe(true);
    expect(ErrorType.HTTPStatus(404).equals(ErrorType.HTTPStatus(500))).toBe(false);
    expect(ErrorType.Custom('a').equals(ErrorType.CustomCode('a', 1))).toBe(false);
    expect(ErrorType.ReadError.equals(ErrorType.WriteError)).toBe(false);
    expect(ErrorType.fromName('ReadError')).toBe(ErrorType.ReadError);
    expect(ErrorType.fromName('Nope')).toBeUndefined();
  });

  it('rejects impossible statuses and is frozen', () => {
    expect(() => ErrorType.HTTPStatus(99)).toThrow(RangeError);
    expect(() => ErrorType.HTTPStatus(600)).toThrow(/100\.\.599/);
    expect(Object.isFrozen(ErrorType.ReadError)).toBe(true);
  });
});
