import { RequestHeader } from '@pingora-ts/http';
import { describe, expect, it } from 'vitest';
import { CacheKey, CompactCacheKey, hashKey, hex2str, str2hex } from './key.js';

const AA = 'ac10f2aef117729f8dad056b3059eb7e';
const WITH_ZERO_VARIANCE = '004174d3e75a811a5b44c46b3856f3ee';
const ZEROS = '00000000000000000000000000000000';

describe('CacheKey hashes (Pingora key.rs vectors)', () => {
  it('primary hash of ns "" + "aa"; combined equals primary without variance', () => {
    const key = new CacheKey('', 'aa', '1');
    expect(key.primaryHex()).toBe(AA);
    expect(key.varianceHex()).toBeUndefined();
    expect(key.combinedHex()).toBe(AA);
    const compact = key.toCompact();
    expect(compact.primaryHex()).toBe(AA);
    expect(compact.varianceHex()).toBeUndefined();
    expect(compact.combinedHex()).toBe(AA);
    expect(compact.userTag).toBe('1');
  });

  it('primary override replaces the hash, and can be replaced again', () => {
    const key = new CacheKey('', 'aa', '1');
    key.setPrimaryBinOverride(str2hex('27c35e6e9373877f29e562464e46497e')!);
    expect(key.primaryHex()).toBe('27c35e6e9373877f29e562464e46497e');
    expect(key.combinedHex()).toBe('27c35e6e9373877f29e562464e46497e');
    expect(key.toCompact().combinedHex()).toBe('27c35e6e9373877f29e562464e46497e');
    key.setPrimaryBinOverride(str2hex(WITH_ZERO_VARIANCE)!);
    expect(key.primaryHex()).toBe(WITH_ZERO_VARIANCE);
    expect(key.toCompact().primaryHex()).toBe(WITH_ZERO_VARIANCE);
  });

  it('combined hash with a 16-zero-byte variance', () => {
    const key = new CacheKey('', 'aa', '1');
    key.setVarianceKey(new Uint8Array(16));
    expect(key.primaryHex()).toBe(AA);
    expect(key.varianceHex()).toBe(ZEROS);
    expect(key.combinedHex()).toBe(WITH_ZERO_VARIANCE);
    const compact = key.toCompact();
    expect(compact.primaryHex()).toBe(AA);
    expect(compact.varianceHex()).toBe(ZEROS);
    expect(compact.combinedHex()).toBe(WITH_ZERO_VARIANCE);
  });

  it('variance combines with the overridden primary', () => {
    const key = new CacheKey('', 'saaaad', '1');
    key.setPrimaryBinOverride(str2hex(AA)!);
    key.setVarianceKey(new Uint8Array(16));
    expect(key.combinedHex()).toBe(WITH_ZERO_VARIANCE);
    expect(key.toCompact().combinedHex()).toBe(WITH_ZERO_VARIANCE);
    key.removeVarianceKey();
    expect(key.combinedHex()).toBe(AA);
  });

  it('namespace and primary are hashed as one concatenation', () => {
    expect(new CacheKey('a', 'a').primaryHex()).toBe(AA);
    expect(new CacheKey(new Uint8Array([0x61, 0x61]), '').primaryHex()).toBe(AA);
    expect(hex2str(hashKey('aa'))).toBe(AA);
    expect(new CacheKey('', 'ab').primaryHex()).not.toBe(AA);
  });
});

describe('hex helpers', () => {
  it('round-trips 0..15', () => {
    const bin = Uint8Array.from({ length: 16 }, (_, i) => i);
    expect(hex2str(bin)).toBe('000102030405060708090a0b0c0d0e0f');
    expect(str2hex(hex2str(bin))).toEqual(bin);
  });
  it('rejects wrong lengths and non-hex', () => {
    expect(str2hex('abc')).toBeUndefined();
    expect(str2hex('zz'.repeat(16))).toBeUndefined();
  });
});

describe('CacheKey accessors', () => {
  it('primaryKeyStr for valid and invalid UTF-8', () => {
    expect(new CacheKey('', '/valid/path?query=1').primaryKeyStr()).toBe('/valid/path?query=1');
    expect(new CacheKey('', new Uint8Array([0x66, 0x6f, 0x6f, 0xff])).primaryKeyStr()).toBeUndefined();
    expect(new CacheKey('ns', 'p').namespaceStr()).toBe('ns');
  });

  it('rejects hashes that are not 16 bytes', () => {
    const key = new CacheKey('', 'aa');
    expect(() => key.setVarianceKey(new Uint8Array(15))).toThrow(RangeError);
    expect(() => key.setPrimaryBinOverride(new Uint8Array(17))).toThrow(RangeError);
    expect(() => new CompactCacheKey(new Uint8Array(3), undefined, '')).toThrow(RangeError);
  });
});

describe('CacheKey.default', () => {
  it('is host + path?query in the empty namespace', () => {
    const req = RequestHeader.build('GET', '/a/b?x=1');
    req.appendHeader('Host', 'example.com');
    const key = CacheKey.default(req);
    expect(key.primaryKeyStr()).toBe('example.com/a/b?x=1');
    expect(key.namespace.length).toBe(0);
    expect(key.userTag).toBe('');
    expect(key.primaryHex()).toBe(new CacheKey('', 'example.com/a/b?x=1').primaryHex());
  });

  it('takes the authority of an absolute-form target when Host is missing', () => {
    const req = RequestHeader.fromRaw('GET', 'http://origin.test:8080/p?q', []);
    expect(CacheKey.default(req).primaryKeyStr()).toBe('origin.test:8080/p?q');
  });

  it('different query strings give different keys', () => {
    const a = RequestHeader.fromRaw('GET', '/p?a', ['Host', 'h']);
    const b = RequestHeader.fromRaw('GET', '/p?b', ['Host', 'h']);
    expect(CacheKey.default(a).combinedHex()).not.toBe(CacheKey.default(b).combinedHex());
  });
});

describe('CompactCacheKey', () => {
  it('displays like Pingora', () => {
    const k = new CacheKey('', 'aa', 'tag');
    expect(k.toCompact().toString()).toBe(`${AA}, user_tag: tag`);
    k.setVarianceKey(new Uint8Array(16));
    expect(String(k.toCompact())).toBe(`${AA}, variance: ${ZEROS}, user_tag: tag`);
  });
});

describe('primary hash memo', () => {
  it('keys given as text hash as keys given as bytes, however often and in whatever order', () => {
    const fromBytes = new CacheKey(new Uint8Array(0), new TextEncoder().encode('aa')).primaryHex();
    expect(fromBytes).toBe(AA);
    for (let i = 0; i < 3; i++) expect(new CacheKey('', 'aa').primaryHex()).toBe(AA);
    // The hash is of namespace ‖ primary (Pingora's), however the memo files them.
    expect(new CacheKey('a', 'a').primaryHex()).toBe(AA);
    expect(new CacheKey('', 'a').primaryHex()).toBe(new CacheKey('a', '').primaryHex());
    expect(new CacheKey('', 'ab').primaryHex()).toBe(hex2str(hashKey('ab')));
    expect(new CacheKey('a', 'b').primaryHex()).toBe(hex2str(hashKey('ab')));
  });

  it('a default key of latin1 text never takes the hash of the same text as UTF-8', () => {
    const req = RequestHeader.build('GET', '/caf\u00e9');
    req.insertHeader('Host', 'h');
    const latin1 = CacheKey.default(req).primaryHex();
    expect(latin1).toBe(hex2str(hashKey(Buffer.from('h/caf\u00e9', 'latin1'))));
    expect(new CacheKey('', 'h/caf\u00e9').primaryHex()).toBe(hex2str(hashKey('h/caf\u00e9')));
    expect(latin1).not.toBe(new CacheKey('', 'h/caf\u00e9').primaryHex());
    // Asked again, from the memo.
    expect(CacheKey.default(req).primaryHex()).toBe(latin1);
  });

  it('stays correct past its bound (it is emptied, never wrong)', () => {
    for (let i = 0; i < 9000; i++) new CacheKey('', `k${i}`).primaryBin();
    expect(new CacheKey('', 'k1').primaryHex()).toBe(hex2str(hashKey('k1')));
    expect(new CacheKey('', 'k8999').primaryHex()).toBe(hex2str(hashKey('k8999')));
  });
});
