import type * as net from 'node:net';
import { describe, expect, it } from 'vitest';
import { remoteOf } from './services/connections.js';
import { formatHostPort, SocketAddr, socketAddrOf } from './socket-addr.js';
import { HttpPeer, parsePeerAddress, peerAddress } from './upstream/peer.js';

describe('SocketAddr', () => {
  it('prints ip:port, [ipv6]:port or the socket path, in template literals and JSON', () => {
    const v4 = SocketAddr.inet('10.0.0.1', 80);
    const v6 = SocketAddr.inet('2001:db8::1', 443);
    const uds = SocketAddr.unix('/run/app.sock');
    expect(`${v4} ${v6} ${uds}`).toBe('10.0.0.1:80 [2001:db8::1]:443 /run/app.sock');
    expect(JSON.stringify({ v4, v6, uds })).toBe(
      '{"v4":"10.0.0.1:80","v6":"[2001:db8::1]:443","uds":"/run/app.sock"}',
    );
    expect(`${SocketAddr.unix('')}`).toBe('(unnamed)');
  });

  it('keeps the fields code already reads', () => {
    expect(SocketAddr.inet('::1', 8080)).toEqual({ address: '::1', port: 8080, family: 'IPv6' });
    expect(SocketAddr.unix('/a.sock')).toMatchObject({
      address: '/a.sock',
      port: 0,
      family: 'unix',
      path: '/a.sock',
    });
    expect(socketAddrOf({ address: '127.0.0.1', port: 5, family: 'IPv4' })).toEqual(
      SocketAddr.inet('127.0.0.1', 5),
    );
    expect(socketAddrOf({ address: undefined, port: undefined, family: undefined })).toBeUndefined();
  });

  it('prints the same text on every call, and the kept text is no field of the address', () => {
    const printed = SocketAddr.inet('2001:db8::7', 8443);
    expect(String(printed)).toBe('[2001:db8::7]:8443');
    expect(`${printed}`).toBe('[2001:db8::7]:8443');
    expect(printed).toEqual(SocketAddr.inet('2001:db8::7', 8443));
    expect(Object.values(printed)).not.toContain('[2001:db8::7]:8443');
    expect(JSON.stringify(printed)).toBe('"[2001:db8::7]:8443"');
  });

  it('brackets IPv6 hosts only', () => {
    expect(formatHostPort('example.com', 443)).toBe('example.com:443');
    expect(formatHostPort('::ffff:1.2.3.4', 1)).toBe('[::ffff:1.2.3.4]:1');
  });
});

describe('RemoteAddress (connection filter)', () => {
  const sock = (o: Partial<net.Socket>) => o as net.Socket;
  it('prints as text for IPv4, IPv6 and a Unix socket client', () => {
    expect(`${remoteOf(sock({ remoteAddress: '192.0.2.7', remotePort: 4000, remoteFamily: 'IPv4' }))}`).toBe(
      '192.0.2.7:4000',
    );
    expect(`${remoteOf(sock({ remoteAddress: '::1', remotePort: 4001, remoteFamily: 'IPv6' }))}`).toBe(
      '[::1]:4001',
    );
    const uds = remoteOf(sock({}));
    expect(uds).toMatchObject({ address: '', port: 0, family: 'unix' });
    expect(`${uds}`).toBe('(unnamed)');
  });
});

describe('PeerAddress and HttpPeer.address', () => {
  it('prints host:port, [ipv6]:port or the socket path', () => {
    expect(`${parsePeerAddress('1.2.3.4:80')}`).toBe('1.2.3.4:80');
    expect(`${parsePeerAddress('[::1]:8080')}`).toBe('[::1]:8080');
    expect(`${parsePeerAddress('unix:/run/o.sock')}`).toBe('/run/o.sock');
    expect(`${new HttpPeer('example.com:443', true, 'example.com').address}`).toBe('example.com:443');
    expect(`${HttpPeer.newUds('/run/o.sock', false, '').address}`).toBe('/run/o.sock');
    expect(JSON.stringify({ peer: parsePeerAddress('[::1]:1') })).toBe('{"peer":"[::1]:1"}');
  });

  it('accepts plain objects and makes them printable; keeps kind/host/port/path', () => {
    const peer = new HttpPeer({ kind: 'inet', host: '::1', port: 9 }, false, '');
    expect(`${peer.address}`).toBe('[::1]:9');
    expect(peer.address).toEqual({ kind: 'inet', host: '::1', port: 9 });
    const uds = peerAddress({ kind: 'unix', path: '/x.sock' });
    expect(uds).toEqual({ kind: 'unix', path: '/x.sock' });
    expect(peerAddress(uds)).toBe(uds);
    expect(peer.reuseKey()).toBe('http|[::1]:9|0');
  });
});
