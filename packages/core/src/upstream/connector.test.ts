import http from 'node:http';
import type net from 'node:net';
import { ErrorType } from '@pingora-ts/error';
import { RequestHeader, type ResponseHeader } from '@pingora-ts/http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { UpstreamResponseHandler, UpstreamSession } from '../protocols/upstream-session.js';
import { Connector } from './connector.js';
import { HttpPeer, parsePeerAddress } from './peer.js';

const servers: http.Server[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function origin(): Promise<{ port: number; sockets: Set<net.Socket> }> {
  const sockets = new Set<net.Socket>();
  const s = http.createServer((_req, res) => res.end('ok'));
  s.on('connection', (c) => {
    sockets.add(c);
    c.on('close', () => sockets.delete(c));
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return { port: (s.address() as net.AddressInfo).port, sockets };
}

/** One GET on `conn`; resolves with the status and body. */
function get(conn: UpstreamSession): Promise<{ head: ResponseHeader; body: string }> {
  return new Promise((resolve, reject) => {
    let head: ResponseHeader | undefined;
    let body = '';
    const handler: UpstreamResponseHandler = {
      onResponseHeader: (h) => (head = h),
      onResponseBody: (c) => (body += c),
      onResponseTrailers: () => {},
      onResponseEnd: () => resolve({ head: head!, body }),
      onError: reject,
    };
    const req = RequestHeader.build('GET', '/');
    req.insertHeader('Host', 'a');
    conn.sendRequest(req, handler, 'none', { readTimeout: undefined, writeTimeout: undefined });
  });
}

describe('Connector and pool', () => {
  it('reuses a released connection and counts reuses', async () => {
    const o = await origin();
    const c = new Connector();
    const peer = new HttpPeer(`127.0.0.1:${o.port}`, false, '');
    const [s1, r1] = await c.getHttpSession(peer);
    expect(r1).toBe(false);
    expect((await get(s1)).body).toBe('ok');
    c.releaseHttpSession(s1, peer);
    const [s2, r2] = await c.getHttpSession(new HttpPeer(`127.0.0.1:${o.port}`, false, ''));
    expect(r2).toBe(true);
    expect(s2).toBe(s1);
    expect(s2.reused).toBe(true);
    expect(c.stats).toEqual({ connectionsCreated: 1, reuses: 1 });
    c.close();
  });

  it('times the connect of a new connection and the first byte of each exchange', async () => {
    const o = await origin();
    const c = new Connector();
    const peer = new HttpPeer(`127.0.0.1:${o.port}`, false, '');
    const s = await c.newHttpSession(peer);
    expect(s.timing.connect).toBeGreaterThan(0);
    expect(s.timing.tlsHandshake).toBe(0);
    expect(s.timing.firstByte).toBe(0);
    await get(s);
    const first = s.timing.firstByte;
    expect(first).toBeGreaterThan(s.timing.requestSent);
    c.releaseHttpSession(s, peer);
    const again = c.reusedHttpSession(peer)!;
    expect(again).toBe(s);
    await get(again);
    // Each exchange gets its own marks; the connect time stays the connection's own.
    expect(again.timing.requestSent).toBeGreaterThanOrEqual(first);
    expect(again.timing.firstByte).toBeGreaterThan(again.timing.requestSent);
  });

  it('peers with different TLS settings or group keys never share a pool entry', () => {
    const a = new HttpPeer('127.0.0.1:443', true, 'a.example');
    const b = new HttpPeer('127.0.0.1:443', true, 'b.example');
    const c = new HttpPeer('127.0.0.1:443', true, 'a.example');
    c.options.verifyCert = false;
    const d = new HttpPeer('127.0.0.1:443', true, 'a.example');
    d.groupKey = 7;
    const keys = new Set([a, b, c, d].map((p) => p.reuseKey()));
    expect(keys.size).toBe(4);
    expect(new HttpPeer('127.0.0.1:443', true, 'a.example').reuseKey()).toBe(a.reuseKey());
  });

  it('closes the oldest idle connection when the pool is full', async () => {
    const o = await origin();
    const c = new Connector({ keepalivePoolSize: 2 });
    const peer = new HttpPeer(`127.0.0.1:${o.port}`, false, '');
    const conns = await Promise.all([1, 2, 3].map(() => c.newHttpSession(peer)));
    for (const s of conns) await get(s);
    for (const s of conns) c.releaseHttpSession(s, peer);
    expect(c.pool.size).toBe(2);
    await new Promise((r) => conns[0]!.socket.once('close', r));
    expect(conns[0]!.socket.destroyed).toBe(true);
    c.close();
  });

  it('evicts an idle connection after its idle timeout', async () => {
    const o = await origin();
    const c = new Connector();
    const peer = new HttpPeer(`127.0.0.1:${o.port}`, false, '');
    peer.options.idleTimeout = 1_000;
    const s = await c.newHttpSession(peer);
    await get(s);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'performance'] });
    c.releaseHttpSession(s, peer);
    expect(c.pool.size).toBe(1);
    vi.advanceTimersByTime(990);
    expect(c.pool.size).toBe(1);
    vi.advanceTimersByTime(30);
    expect(c.pool.size).toBe(0);
    expect(s.socket.destroyed).toBe(true);
  });

  it('drops a pooled connection the origin closes while idle', async () => {
    const o = await origin();
    const c = new Connector();
    const peer = new HttpPeer(`127.0.0.1:${o.port}`, false, '');
    const s = await c.newHttpSession(peer);
    await get(s);
    c.releaseHttpSession(s, peer);
    expect(c.pool.size).toBe(1);
    for (const sock of o.sockets) sock.destroy();
    await new Promise((r) => s.socket.once('close', r));
    expect(c.pool.size).toBe(0);
    expect(c.reusedHttpSession(peer)).toBeUndefined();
  });

  it('idleTimeout 0 disables reuse', async () => {
    const o = await origin();
    const c = new Connector();
    const peer = new HttpPeer(`127.0.0.1:${o.port}`, false, '');
    peer.options.idleTimeout = 0;
    const s = await c.newHttpSession(peer);
    await get(s);
    c.releaseHttpSession(s, peer);
    expect(c.pool.size).toBe(0);
  });

  it('maps connect failures to typed upstream errors naming the peer', async () => {
    const c = new Connector();
    const err = await c.newHttpSession(new HttpPeer('127.0.0.1:1', false, '')).catch((e) => e);
    expect(err.type).toBe(ErrorType.ConnectRefused);
    expect(err.source).toBe('Upstream');
    expect(String(err)).toContain('127.0.0.1:1');
    const uds = await c
      .newHttpSession(HttpPeer.newUds('/nonexistent/pingora.sock', false, ''))
      .catch((e) => e);
    expect(uds.type).toBe(ErrorType.ConnectRefused);
  });

  it('parses peer addresses and rejects bad ones', () => {
    expect(parsePeerAddress('[::1]:8080')).toEqual({ kind: 'inet', host: '::1', port: 8080 });
    expect(parsePeerAddress('example.com:443')).toEqual({ kind: 'inet', host: 'example.com', port: 443 });
    expect(parsePeerAddress('unix:/tmp/a.sock')).toEqual({ kind: 'unix', path: '/tmp/a.sock' });
    expect(() => parsePeerAddress('::1:80')).toThrow(/invalid peer address/);
    expect(() => parsePeerAddress('host:99999')).toThrow(/invalid peer address/);
    expect(String(new HttpPeer('1.1.1.1:443', true, 'one.one.one.one'))).toBe(
      'addr: 1.1.1.1:443, scheme: HTTPS, sni: one.one.one.one,',
    );
  });
});
