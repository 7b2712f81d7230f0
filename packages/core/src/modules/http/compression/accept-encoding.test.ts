import { describe, expect, it } from 'vitest';
import { acceptWeight, chooseEncoding, parseAcceptEncoding } from './accept-encoding.js';
import type { CompressionAlgorithm } from './algorithm.js';

const ALL: CompressionAlgorithm[] = ['zstd', 'br', 'gzip'];
const NO_ZSTD: CompressionAlgorithm[] = ['br', 'gzip'];

describe('parseAcceptEncoding', () => {
  it('reads codings, weights, case and the x-gzip alias', () => {
    const ae = parseAcceptEncoding(' GZip ;Q=0.5 , br;q=1.000, x-gzip;q=0.9,zstd;q=0 , *;q=0.1');
    expect([...ae.codings]).toEqual([
      ['gzip', 0.5],
      ['br', 1],
      ['zstd', 0],
    ]);
    expect(ae.star).toBe(0.1);
  });

  it('ignores elements with an invalid weight and empty elements', () => {
    const ae = parseAcceptEncoding('gzip;q=2, br;q=abc, zstd;q=0.5555, ,, deflate;q=0.');
    expect([...ae.codings]).toEqual([['deflate', 0]]);
    expect(ae.star).toBeUndefined();
  });

  it('shares the parse of a repeated value, and stays right past the cache bound', () => {
    expect(parseAcceptEncoding('gzip, br')).toBe(parseAcceptEncoding('gzip, br'));
    for (let i = 0; i < 200; i++) {
      const ae = parseAcceptEncoding(`gzip;q=0.${String(i % 1000).padStart(3, '0')}, c${i}`);
      expect(ae.codings.get('gzip')).toBe(i / 1000);
      expect(ae.codings.get(`c${i}`)).toBe(1);
    }
  });

  it('rates unnamed codings by * and refuses them without it', () => {
    expect(acceptWeight(parseAcceptEncoding('*;q=0.3'), 'br')).toBe(0.3);
    expect(acceptWeight(parseAcceptEncoding('gzip'), 'br')).toBe(0);
    expect(acceptWeight(parseAcceptEncoding('br;q=0, *'), 'br')).toBe(0);
  });
});

describe('chooseEncoding', () => {
  // [Accept-Encoding, choice among zstd/br/gzip, choice where zstd is not available]
  const table: Array<[string, CompressionAlgorithm | undefined, CompressionAlgorithm | undefined]> = [
    ['gzip', 'gzip', 'gzip'],
    ['br', 'br', 'br'],
    ['zstd', 'zstd', undefined],
    ['gzip, deflate, br, zstd', 'zstd', 'br'], // today's browsers: all q=1, server preference decides
    ['gzip, deflate, br', 'br', 'br'],
    ['br;q=0.5, gzip', 'gzip', 'gzip'], // q beats server preference
    ['gzip;q=0.4, br;q=0.8, zstd;q=0.6', 'br', 'br'],
    ['gzip;q=0.5', 'gzip', 'gzip'], // identity unnamed: it does not compete
    ['gzip;q=0', undefined, undefined],
    ['gzip;q=0, br;q=0, zstd;q=0', undefined, undefined],
    ['deflate, compress', undefined, undefined],
    ['identity', undefined, undefined],
    ['', undefined, undefined], // empty: identity only
    ['*', 'zstd', 'br'], // * accepts every coding
    ['*;q=0', undefined, undefined],
    ['*;q=0, gzip', 'gzip', 'gzip'],
    ['*, br;q=0', 'zstd', 'gzip'],
    ['*, zstd;q=0, br;q=0', 'gzip', 'gzip'],
    ['gzip;q=0.5, *;q=0.8', 'zstd', 'br'],
    ['identity;q=0, gzip', 'gzip', 'gzip'],
    ['identity;q=0', undefined, undefined],
    ['gzip;q=0.5, identity', undefined, undefined], // the client prefers the body as is
    ['gzip, identity;q=0.5', 'gzip', 'gzip'],
    ['gzip;q=0.5, identity;q=0.5', 'gzip', 'gzip'], // a tie goes to compression
    ['x-gzip', 'gzip', 'gzip'],
    ['GZIP', 'gzip', 'gzip'],
    ['gzip;q=1.5, br', 'br', 'br'], // an invalid element is dropped, not the header
    ['br;level=5;q=0.9, gzip;q=0.8', 'br', 'br'], // unknown parameters are ignored
  ];

  it.each(table)('Accept-Encoding %j → %s (no zstd: %s)', (value, expected, expectedNoZstd) => {
    const ae = parseAcceptEncoding(value);
    expect(chooseEncoding(ae, ALL)).toBe(expected);
    expect(chooseEncoding(ae, NO_ZSTD)).toBe(expectedNoZstd);
  });

  it('only picks among the candidates given', () => {
    expect(chooseEncoding(parseAcceptEncoding('br, zstd'), ['gzip'])).toBeUndefined();
    expect(chooseEncoding(parseAcceptEncoding('gzip, br'), [])).toBeUndefined();
  });
});
