import { describe, expect, it } from 'vitest';
import { formatHttpDate, parseHttpDate } from './http-date.js';

const T = Date.UTC(1994, 10, 6, 8, 49, 37); // Sun, 06 Nov 1994 08:49:37 GMT

describe('parseHttpDate', () => {
  it('accepts the three RFC 9110 forms', () => {
    expect(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT')).toBe(T);
    expect(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT')).toBe(T);
    expect(parseHttpDate('Sun Nov  6 08:49:37 1994')).toBe(T);
  });

  it('maps two-digit RFC 850 years below 70 to 20xx', () => {
    expect(parseHttpDate('Thursday, 01-Jan-15 00:00:00 GMT')).toBe(Date.UTC(2015, 0, 1));
  });

  it('rejects what is not an HTTP-date', () => {
    for (const bad of [
      '0',
      '',
      '1700000000',
      '2015-05-15T15:34:21Z',
      'Fri, 15 May 2015 15:34:21 PST',
      'Mon, 13 Feb 0002 12:00:00 GMT', // before 1970
      'Fri, 01 Dec 99999 16:00:00 GMT',
      'Fri, 30 Feb 2015 00:00:00 GMT', // no such day
      'Fri, 15 May 2015 24:00:00 GMT',
      'Xyz, 15 May 2015 15:34:21 GMT',
      'Fri, 15 Mai 2015 15:34:21 GMT',
    ]) {
      expect(parseHttpDate(bad), bad).toBeUndefined();
    }
  });

  it('round-trips formatHttpDate', () => {
    expect(formatHttpDate(T)).toBe('Sun, 06 Nov 1994 08:49:37 GMT');
    expect(parseHttpDate(formatHttpDate(1_700_000_000_000))).toBe(1_700_000_000_000);
  });
});
