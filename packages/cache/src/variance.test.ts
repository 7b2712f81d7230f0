import { RequestHeader, ResponseHeader } from '@pingora-ts/http';
import { describe, expect, it } from 'vitest';
import { hex2str } from './key.js';
import { VARY_UNCACHEABLE, VarianceBuilder, varianceFromVary, varyHeaderNames } from './variance.js';

// Computed independently with Python's hashlib.blake2b(digest_size=16) over the sorted entries,
// each `name ‖ 0x00 ‖ value ‖ 0x00`.
const A_A = 'a5ebffcdf1667531d459407d3dc748d3';
const ABC = '15f335223c45aeb47ea6983eb5218647';
const AE_GZIP_UA_EMPTY = 'd4706e6c61ae423c6085de47f60eb035';

function hex(v: Uint8Array | undefined | string): string | undefined {
  if (v === undefined || typeof v === 'string') return v;
  return hex2str(v);
}

describe('VarianceBuilder', () => {
  it('has no variance and no hash when empty', () => {
    const b = new VarianceBuilder();
    expect(b.hasVariance()).toBe(false);
    expect(b.finalize()).toBeUndefined();
  });

  it('hashes a fixed input to the pinned vector', () => {
    const b = new VarianceBuilder().addValue('a', 'a');
    expect(b.hasVariance()).toBe(true);
    expect(hex(b.finalize())).toBe(A_A);
    expect(
      hex(new VarianceBuilder().addValue('a', 'a').addValue('b', 'b').addValue('c', 'c').finalize()),
    ).toBe(ABC);
  });

  it('gives the same hash for strings, bytes and owned bytes', () => {
    const fromBytes = new VarianceBuilder().addValue('a', new Uint8Array([0x61])).finalize();
    const owned = new VarianceBuilder().addOwnedValue('a', new Uint8Array([0x61])).finalize();
    expect(hex(fromBytes)).toBe(A_A);
    expect(hex(owned)).toBe(A_A);
  });

  it('does not depend on insertion order', () => {
    const orders = [
      ['a', 'b', 'c'],
      ['b', 'a', 'c'],
      ['c', 'b', 'a'],
    ];
    for (const order of orders) {
      const b = new VarianceBuilder();
      for (const n of order) b.addValue(n, n);
      expect(hex(b.finalize())).toBe(ABC);
    }
  });

  it('lets a later value of the same name replace the earlier one', () => {
    expect(hex(new VarianceBuilder().addValue('a', 'b').addValue('a', 'a').finalize())).toBe(A_A);
  });

  it('gives different hashes for different values and for shifted separators', () => {
    const base = hex(new VarianceBuilder().addValue('a', 'a').finalize());
    expect(hex(new VarianceBuilder().addValue('a', 'b').finalize())).not.toBe(base);
    expect(hex(new VarianceBuilder().addValue('b', 'a').finalize())).not.toBe(base);
    const ab = hex(new VarianceBuilder().addValue('ab', 'c').finalize());
    const a = hex(new VarianceBuilder().addValue('a', 'bc').finalize());
    expect(ab).not.toBe(a);
  });

  it('copies bytes given to addValue, so reusing the buffer does not change the hash', () => {
    const buf = new Uint8Array([0x61]);
    const b = new VarianceBuilder().addValue('a', buf);
    buf[0] = 0x7a;
    expect(hex(b.finalize())).toBe(A_A);
    const nodeBuf = Buffer.from('a');
    const c = new VarianceBuilder().addValue('a', nodeBuf);
    nodeBuf[0] = 0x7a;
    expect(hex(c.finalize())).toBe(A_A);
  });

  it('sorts names by UTF-8 bytes, not UTF-16 units', () => {
    // U+FF61 is 0xEF… in UTF-8 and sorts after U+1F600 (0xF0…) in UTF-16 but before it in bytes.
    const one = new VarianceBuilder().addValue('\u{FF61}', 'x').addValue('\u{1F600}', 'y').finalize();
    const two = new VarianceBuilder().addValue('\u{1F600}', 'y').addValue('\u{FF61}', 'x').finalize();
    expect(hex(one)).toBe(hex(two));
    // Python: entries sorted by UTF-8 bytes; UTF-16 order would give a7b2be3cacbe19e7bf93ca756a2788c6.
    expect(hex(one)).toBe('75a0b7f7ec0673eee91dcabe9c61d47d');
  });
});

function request(headers: [string, string][]): RequestHeader {
  const req = RequestHeader.build('GET', '/');
  for (const [n, v] of headers) req.appendHeader(n, v);
  return req;
}

function response(vary: string[]): ResponseHeader {
  const resp = ResponseHeader.build(200);
  for (const v of vary) resp.appendHeader('Vary', v);
  return resp;
}

describe('varyHeaderNames', () => {
  it('lowercases, trims and deduplicates across lines', () => {
    expect(varyHeaderNames(response(['Accept-Encoding, User-Agent', ' accept-encoding ,, Accept']))).toEqual([
      'accept-encoding',
      'user-agent',
      'accept',
    ]);
    expect(varyHeaderNames(response([]))).toEqual([]);
  });
});

describe('varianceFromVary', () => {
  it('builds the hash from the request values, a missing field counting as empty', () => {
    const req = request([['Accept-Encoding', 'gzip']]);
    const v = varianceFromVary(req, response(['Accept-Encoding, User-Agent']));
    expect(hex(v)).toBe(AE_GZIP_UA_EMPTY);
  });

  it('returns undefined without Vary', () => {
    expect(varianceFromVary(request([['Accept-Encoding', 'gzip']]), response([]))).toBeUndefined();
  });

  it('returns the uncacheable marker for Vary: *, alone or in a list', () => {
    expect(varianceFromVary(request([]), response(['*']))).toBe(VARY_UNCACHEABLE);
    expect(varianceFromVary(request([]), response(['Accept', '*']))).toBe(VARY_UNCACHEABLE);
  });

  it('gives different variants for different request values and the same for equal ones', () => {
    const resp = response(['Accept-Encoding']);
    const gzip = hex(varianceFromVary(request([['accept-encoding', 'gzip']]), resp));
    const br = hex(varianceFromVary(request([['Accept-Encoding', 'br']]), resp));
    const gzip2 = hex(varianceFromVary(request([['ACCEPT-ENCODING', 'gzip']]), resp));
    expect(gzip).not.toBe(br);
    expect(gzip).toBe(gzip2);
  });

  it('joins several request lines of one field', () => {
    const resp = response(['Accept']);
    const split = varianceFromVary(
      request([
        ['Accept', 'a'],
        ['Accept', 'b'],
      ]),
      resp,
    );
    const joined = varianceFromVary(request([['Accept', 'a, b']]), resp);
    const first = varianceFromVary(request([['Accept', 'a']]), resp);
    expect(hex(split)).toBe(hex(joined));
    expect(hex(split)).not.toBe(hex(first));
  });

  it('treats a disallowed name as uncacheable by default, or ignores it when asked', () => {
    const allow = (n: string) => n === 'accept-encoding';
    const req = request([
      ['Accept-Encoding', 'gzip'],
      ['Cookie', 'id=1'],
    ]);
    const resp = response(['Accept-Encoding, Cookie']);
    expect(varianceFromVary(req, resp, allow)).toBe(VARY_UNCACHEABLE);
    const ignored = varianceFromVary(req, resp, allow, 'ignore');
    const only = varianceFromVary(req, response(['Accept-Encoding']));
    expect(hex(ignored)).toBe(hex(only));
    expect(varianceFromVary(req, response(['Cookie']), allow, 'ignore')).toBeUndefined();
  });

  it('hashes header values as their wire bytes (latin1)', () => {
    const req = RequestHeader.fromRaw('GET', '/', ['X-Lang', 'caf\u00e9'], '1.1');
    const v = varianceFromVary(req, response(['X-Lang']));
    const bytes = new VarianceBuilder()
      .addValue('x-lang', new Uint8Array([0x63, 0x61, 0x66, 0xe9]))
      .finalize();
    expect(hex(v)).toBe(hex(bytes));
  });
});
