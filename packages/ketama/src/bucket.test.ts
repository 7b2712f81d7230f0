import { describe, expect, it } from 'vitest';
import { formatIPv6 } from './address.js';
import { Bucket } from './bucket.js';

describe('Bucket', () => {
  it('keeps the canonical address, the text as written and the weight', () => {
    const b = new Bucket('127.0.0.1:7777', 2);
    expect([b.addr, b.ip, b.port, b.family, b.weight, b.server]).toEqual([
      '127.0.0.1:7777',
      '127.0.0.1',
      7777,
      4,
      2,
      '127.0.0.1:7777',
    ]);
    expect(String(b)).toBe('127.0.0.1:7777 weight=2');
  });

  it('canonicalizes IPv6 like Rust (RFC 5952) and prints it in brackets', () => {
    const cases: [string, string][] = [
      ['[::1]:7777', '[::1]:7777'],
      ['[0:0:0:0:0:0:0:1]:80', '[::1]:80'],
      ['[2001:DB8:0:0:1:0:0:1]:443', '[2001:db8::1:0:0:1]:443'],
      ['[2001:db8:0:1:1:1:1:1]:1', '[2001:db8:0:1:1:1:1:1]:1'],
      ['[::]:0', '[::]:0'],
      ['[::ffff:10.0.0.1]:80', '[::ffff:10.0.0.1]:80'],
      ['[0:0:0:0:0:FFFF:7F00:3]:80', '[::ffff:127.0.0.3]:80'],
      ['[fe80::1:2]:65535', '[fe80::1:2]:65535'],
      ['[1::]:9', '[1::]:9'],
    ];
    for (const [input, addr] of cases) {
      const b = new Bucket(input, 1);
      expect(b.addr, input).toBe(addr);
      expect(b.family).toBe(6);
    }
    expect(formatIPv6([1, 0, 0, 2, 0, 0, 0, 3])).toBe('1:0:0:2::3');
    expect(formatIPv6([1, 0, 0, 2, 0, 0, 3, 4])).toBe('1::2:0:0:3:4');
  });

  it('hashes the server text for nginx and the parsed address for Pingora', () => {
    const v6 = new Bucket('[0:0::1]:07777', 1);
    expect([v6.hashHost('nginx'), v6.hashPort('nginx')]).toEqual(['[0:0::1]', '07777']);
    expect([v6.hashHost('pingora'), v6.hashPort('pingora')]).toEqual(['::1', '7777']);
  });

  it('rejects weights that are not integers >= 1', () => {
    for (const w of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 32, '1' as unknown as number]) {
      expect(() => new Bucket('127.0.0.1:80', w), String(w)).toThrow(RangeError);
    }
    expect(() => new Bucket('127.0.0.1:80', 0)).toThrow(/weight must be an integer >= 1, got 0/);
    expect(new Bucket('127.0.0.1:80', 2 ** 32 - 1).weight).toBe(2 ** 32 - 1);
  });

  it('rejects addresses that are not ip:port with a TypeError naming the input', () => {
    const bad = [
      '127.0.0.1',
      'localhost:80',
      '127.0.0.1:',
      '127.0.0.1:65536',
      '127.0.0.1:-1',
      '127.0.0.1:8a',
      '127.0.0.01:80',
      '256.0.0.1:80',
      '1.2.3:80',
      '::1:80',
      '[::1]',
      '[::1:80',
      '[fe80::1%eth0]:80',
      '[1:2:3:4:5:6:7:8:9]:80',
      '[1::2::3]:80',
      '[12345::1]:80',
      '[::ffff:1.2.3.256]:80',
      ' 127.0.0.1:80',
      '',
    ];
    for (const addr of bad) expect(() => new Bucket(addr, 1), addr).toThrow(TypeError);
    expect(() => new Bucket('example.com:80', 1)).toThrow(/invalid address "example.com:80"/);
    expect(() => new Bucket(42 as unknown as string, 1)).toThrow(TypeError);
  });

  it('accepts leading zeros in the port (nginx and Rust both do) and keeps them for nginx hashing', () => {
    const b = new Bucket('127.0.0.1:00080', 1);
    expect([b.port, b.addr, b.server]).toEqual([80, '127.0.0.1:80', '127.0.0.1:00080']);
  });
});
