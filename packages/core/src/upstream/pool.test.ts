import http from 'node:http';
import type net from 'node:net';
import { RequestHeader } from '@pingora-ts/http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { UpstreamSession } from '../protocols/upstream-session.js';
import { Connector } from './connector.js';
import { HttpPeer } from './peer.js';

// The pool keeps a connection's idle timer across reuses (refreshed at each release): these pin
// that a timer outliving a reuse never closes a connection in use, and that each release starts
// the idle wait over.
const servers: http.Server[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function origin(): Promise<number> {
  const s = http.createServer((_req, res) => res.end('ok'));
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return (s.address() as net.AddressInfo).port;
}

function get(conn: UpstreamSession): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    const req = RequestHeader.build('GET', '/');
    req.insertHeader('Host', 'a');
    conn.sendRequest(
      req,
      {
        onResponseHeader: () => {},
        onResponseBody: (c) => (body += c),
        onResponseTrailers: () => {},
        onResponseEnd: () => resolve(body),
        onError: reject,
      },
      'none',
      { readTimeout: undefined, writeTimeout: undefined },
    );
  });
}

const FAKE: Parameters<typeof vi.useFakeTimers>[0] = {
  toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'performance'],
};

describe('ConnectionPool idle timers', () => {
  it('never closes a connection in use when the idle time of an earlier release passes', async () => {
    const port = await origin();
    const c = new Connector();
    const peer = new HttpPeer(`127.0.0.1:${port}`, false, '');
    peer.options.idleTimeout = 1_000;
    const s = await c.newHttpSession(peer);
    await get(s);
    vi.useFakeTimers(FAKE);
    c.releaseHttpSession(s, peer);
    expect(c.reusedHttpSession(peer)).toBe(s);
    vi.advanceTimersByTime(1_500);
    expect(s.socket.destroyed).toBe(false);
    vi.useRealTimers();
    expect(await get(s)).toBe('ok');
    vi.useFakeTimers(FAKE);
    c.releaseHttpSession(s, peer);
    expect(c.pool.size).toBe(1);
    vi.advanceTimersByTime(990);
    expect(c.pool.size).toBe(1);
    vi.advanceTimersByTime(30);
    expect(c.pool.size).toBe(0);
    expect(s.socket.destroyed).toBe(true);
  });

  it('starts the idle wait over at each release', async () => {
    const port = await origin();
    const c = new Connector();
    const peer = new HttpPeer(`127.0.0.1:${port}`, false, '');
    peer.options.idleTimeout = 1_000;
    const s = await c.newHttpSession(peer);
    await get(s);
    vi.useFakeTimers(FAKE);
    c.releaseHttpSession(s, peer);
    vi.advanceTimersByTime(600);
    expect(c.reusedHttpSession(peer)).toBe(s);
    c.releaseHttpSession(s, peer);
    vi.advanceTimersByTime(600);
    // 1 200 ms after the first release, 600 after the second: still idle in the pool.
    expect(c.pool.size).toBe(1);
    expect(s.socket.destroyed).toBe(false);
    vi.advanceTimersByTime(420);
    expect(c.pool.size).toBe(0);
    expect(s.socket.destroyed).toBe(true);
  });

  it('takes the newest idle connection first and evicts the oldest, across keys', async () => {
    const port = await origin();
    const port2 = await origin();
    const c = new Connector({ keepalivePoolSize: 2 });
    const a = new HttpPeer(`127.0.0.1:${port}`, false, '');
    const b = new HttpPeer(`127.0.0.1:${port2}`, false, '');
    const [a1, a2, b1] = await Promise.all([c.newHttpSession(a), c.newHttpSession(a), c.newHttpSession(b)]);
    for (const s of [a1!, a2!, b1!]) await get(s);
    c.releaseHttpSession(a1!, a);
    c.releaseHttpSession(a2!, a);
    c.releaseHttpSession(b1!, b);
    expect(c.pool.size).toBe(2);
    expect(a1!.socket.destroyed).toBe(true);
    expect(c.reusedHttpSession(a)).toBe(a2);
    expect(c.reusedHttpSession(a)).toBeUndefined();
    expect(c.reusedHttpSession(b)).toBe(b1);
    expect(c.pool.size).toBe(0);
    c.close();
  });
});
