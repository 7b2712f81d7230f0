import { describe, expect, it } from 'vitest';
import { HttpPeer } from './peer.js';

// Plain peers built from one address string share the address and its pool key; every setting
// that makes connections differ still gives a key of its own.
describe('HttpPeer.reuseKey', () => {
  it('is the same string for plain peers of one address, and spells the address', () => {
    const a = new HttpPeer('127.0.0.1:8080', false, '');
    const b = new HttpPeer('127.0.0.1:8080', false, '');
    expect(a.address).toBe(b.address);
    expect(a.reuseKey()).toBe('http|127.0.0.1:8080|0');
    expect(b.reuseKey()).toBe(a.reuseKey());
    expect(new HttpPeer('[::1]:80', false, '').reuseKey()).toBe('http|[::1]:80|0');
    expect(HttpPeer.newUds('/tmp/o.sock', false, '').reuseKey()).toBe('http|unix:/tmp/o.sock|0');
    expect(new HttpPeer({ kind: 'inet', host: '127.0.0.1', port: 8080 }, false, '').reuseKey()).toBe(
      a.reuseKey(),
    );
  });

  it('differs for a group, a source address, h2 or TLS', () => {
    const base = new HttpPeer('127.0.0.1:8080', false, '').reuseKey();
    const group = new HttpPeer('127.0.0.1:8080', false, '');
    group.groupKey = 7;
    const bound = new HttpPeer('127.0.0.1:8080', false, '');
    bound.options.bindTo = '127.0.0.2';
    const h2 = new HttpPeer('127.0.0.1:8080', false, '');
    h2.options.alpn = 'h2';
    const tls = new HttpPeer('127.0.0.1:8080', true, 'a.example');
    const keys = [base, group.reuseKey(), bound.reuseKey(), h2.reuseKey(), tls.reuseKey()];
    expect(new Set(keys).size).toBe(5);
    expect(group.reuseKey()).toBe('http|127.0.0.1:8080|7');
    expect(bound.reuseKey()).toBe('http|127.0.0.1:8080|0|bind=127.0.0.2');
  });
});
