import { isIP } from 'node:net';
import { describe, expect, it } from 'vitest';
import { cidrSet, parseIp } from './cidr.js';

const groups = (s: string) => {
  const out = new Uint16Array(8);
  const family = parseIp(s, out);
  return { family, hex: Array.from(out, (g) => g.toString(16)).join(':') };
};

describe('parseIp', () => {
  it('parses IPv4, IPv6 forms and reports IPv4-mapped addresses as IPv4', () => {
    expect(groups('192.0.2.7')).toEqual({ family: 4, hex: '0:0:0:0:0:0:c000:207' });
    expect(groups('2001:db8::1')).toEqual({ family: 6, hex: '2001:db8:0:0:0:0:0:1' });
    expect(groups('::1')).toEqual({ family: 6, hex: '0:0:0:0:0:0:0:1' });
    expect(groups('::')).toEqual({ family: 6, hex: '0:0:0:0:0:0:0:0' });
    expect(groups('fe80::1%eth0')).toEqual({ family: 6, hex: 'fe80:0:0:0:0:0:0:1' });
    expect(groups('1:2:3:4:5:6:7:8')).toEqual({ family: 6, hex: '1:2:3:4:5:6:7:8' });
    expect(groups('1::')).toEqual({ family: 6, hex: '1:0:0:0:0:0:0:0' });
    expect(groups('::ffff:127.0.0.1')).toEqual({ family: 4, hex: '0:0:0:0:0:ffff:7f00:1' });
    expect(groups('64:ff9b::192.0.2.1').family).toBe(6);
  });

  it('rejects what is not an address, as node:net does', () => {
    for (const bad of [
      '',
      '1.2.3',
      '1.2.3.4.5',
      '256.1.1.1',
      '1::2::3',
      ':1',
      '1:2:3:4:5:6:7:8:9',
      '12345::',
      'x::1',
      '1:',
      '::1.2.3',
      'localhost',
    ]) {
      expect(parseIp(bad, new Uint16Array(8)), bad).toBe(0);
      expect(isIP(bad), bad).toBe(0);
    }
  });
});

describe('cidrSet', () => {
  it('matches prefixes of any length in both families', () => {
    const set = cidrSet(['10.0.0.0/8', '192.168.1.128/25', '2001:db8::/32', '::1', '172.16.0.0/12']);
    expect(set.has('10.255.0.1')).toBe(true);
    expect(set.has('11.0.0.1')).toBe(false);
    expect(set.has('192.168.1.200')).toBe(true);
    expect(set.has('192.168.1.127')).toBe(false);
    expect(set.has('172.31.255.255')).toBe(true);
    expect(set.has('172.32.0.0')).toBe(false);
    expect(set.has('2001:db8:ffff::5')).toBe(true);
    expect(set.has('2001:db9::5')).toBe(false);
    expect(set.has('::1')).toBe(true);
    expect(set.has('::2')).toBe(false);
    expect(set.has('::ffff:10.1.2.3')).toBe(true);
    expect(set.has('not an ip')).toBe(false);
  });

  it('keeps the families apart and accepts /0', () => {
    expect(cidrSet(['0.0.0.0/0']).has('2001:db8::1')).toBe(false);
    expect(cidrSet(['0.0.0.0/0']).has('8.8.8.8')).toBe(true);
    expect(cidrSet(['::/0']).has('2001:db8::1')).toBe(true);
    expect(() => cidrSet(['10.0.0.0/33'])).toThrow(/invalid CIDR/);
  });
});
