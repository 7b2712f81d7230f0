import { isPingoraError } from '@pingora-ts/error';
import { describe, expect, it } from 'vitest';
import { Backend, sortedBackends } from './backend.js';
import { withPort } from './health-check.js';

describe('Backend', () => {
  it('orders like Pingora: IPv4 < IPv6 < Unix, then IP, port and weight', () => {
    const list = [
      new Backend('unix:/tmp/b.sock'),
      new Backend('[::1]:80'),
      new Backend('1.1.1.1:80'),
      new Backend('1.0.0.255:80'),
      new Backend('1.0.0.1:80', 2),
      new Backend('1.0.0.1:80'),
      new Backend('1.0.0.1:79'),
      new Backend('[2001:db8::1]:80'),
      new Backend('[::ffff:1.2.3.4]:80'),
      new Backend('unix:/tmp/a.sock'),
    ];
    expect(sortedBackends(list).map((b) => b.toString())).toEqual([
      'Backend { addr: 1.0.0.1:79, weight: 1 }',
      'Backend { addr: 1.0.0.1:80, weight: 1 }',
      'Backend { addr: 1.0.0.1:80, weight: 2 }',
      'Backend { addr: 1.0.0.255:80, weight: 1 }',
      'Backend { addr: 1.1.1.1:80, weight: 1 }',
      'Backend { addr: [::1]:80, weight: 1 }',
      'Backend { addr: [::ffff:1.2.3.4]:80, weight: 1 }',
      'Backend { addr: [2001:db8::1]:80, weight: 1 }',
      'Backend { addr: unix:/tmp/a.sock, weight: 1 }',
      'Backend { addr: unix:/tmp/b.sock, weight: 1 }',
    ]);
  });

  it('compares IPs numerically, not as text', () => {
    // As text "10.0.0.9" > "10.0.0.10"; as numbers it is smaller.
    expect(Backend.compare(new Backend('10.0.0.9:1'), new Backend('10.0.0.10:1'))).toBeLessThan(0);
    expect(Backend.compare(new Backend('[::9]:1'), new Backend('[::10]:1'))).toBeLessThan(0);
    expect(Backend.compare(new Backend('[1::]:1'), new Backend('[::ffff]:1'))).toBeGreaterThan(0);
  });

  it('equality and hashKey use the address and weight only, canonicalised', () => {
    const a = new Backend('[0:0:0:0:0:0:0:1]:8080');
    const b = new Backend('[::1]:8080');
    b.ext.set('zone', 'eu');
    expect(a.addr).toBe('[::1]:8080');
    expect(a.equals(b)).toBe(true);
    expect(a.hashKey()).toBe(b.hashKey());
    expect(a.equals(new Backend('[::1]:8080', 2))).toBe(false);
    expect(a.hashKey()).not.toBe(new Backend('[::1]:8080', 2).hashKey());
    expect(sortedBackends([a, b])).toEqual([a]);
  });

  it('exposes a parsed address for HttpPeer', () => {
    expect(new Backend('[::1]:8080').address).toEqual({ kind: 'inet', host: '::1', port: 8080 });
    expect(new Backend('/run/app.sock').address).toEqual({ kind: 'unix', path: '/run/app.sock' });
    expect(new Backend('/run/app.sock').addr).toBe('unix:/run/app.sock');
    expect(Backend.newWithWeight('1.2.3.4:5', 7).weight).toBe(7);
    expect(Backend.new('1.2.3.4:5').family).toBe(4);
  });

  it('address prints as text: ip:port, [ipv6]:port, or the socket path', () => {
    expect(`${new Backend('10.0.0.1:80').address}`).toBe('10.0.0.1:80');
    expect(`${new Backend('[0:0::1]:8080').address}`).toBe('[::1]:8080');
    expect(`${new Backend('unix:/run/app.sock').address}`).toBe('/run/app.sock');
    expect(JSON.stringify({ backend: new Backend('127.0.0.1:7001').address })).toBe(
      '{"backend":"127.0.0.1:7001"}',
    );
    expect(`${withPort(new Backend('[::1]:80').address, 8080)}`).toBe('[::1]:8080');
  });

  it('rejects host names, bad ports and bad weights with an InternalError', () => {
    for (const [addr, weight] of [
      ['localhost:80', 1],
      ['1.2.3.4', 1],
      ['1.2.3.4:70000', 1],
      ['::1:80', 1],
      ['1.2.3.4:80', -1],
      ['1.2.3.4:80', 1.5],
    ] as const) {
      let caught: unknown;
      try {
        new Backend(addr, weight);
      } catch (e) {
        caught = e;
      }
      expect(isPingoraError(caught), `${addr} w${weight}`).toBe(true);
      expect(String(caught)).toContain('InternalError');
    }
  });
});
