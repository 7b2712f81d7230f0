import http from 'node:http';
import type net from 'node:net';
import { ErrorType, type PingoraError } from '@pingora-ts/error';
import { RequestHeader } from '@pingora-ts/http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Connector } from '../upstream/connector.js';
import { HttpPeer } from '../upstream/peer.js';
import type { UpstreamSession } from './upstream-session.js';

// An H1 connection parks its read timer between exchanges (the next one restarts it): a parked
// timer must never fail an idle connection, and the next exchange must still time out on time.
const servers: http.Server[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function origin(): Promise<number> {
  const s = http.createServer((req, res) => {
    if (req.url !== '/hang') res.end('ok');
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return (s.address() as net.AddressInfo).port;
}

function exchange(conn: UpstreamSession, path: string, readTimeout: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    const req = RequestHeader.build('GET', path);
    req.insertHeader('Host', 'a');
    conn.sendRequest(
      req,
      {
        onResponseHeader: () => {},
        onResponseBody: (c) => (body += c),
        onResponseTrailers: () => {},
        onResponseEnd: () => resolve(body),
        onError: (e: PingoraError) => reject(e),
      },
      'none',
      { readTimeout, writeTimeout: undefined },
    );
  });
}

describe('H1ClientSession read timer between exchanges', () => {
  it('does not fail an idle connection when the parked timer runs out', async () => {
    const c = new Connector();
    const peer = new HttpPeer(`127.0.0.1:${await origin()}`, false, '');
    const conn = await c.newHttpSession(peer);
    expect(await exchange(conn, '/', 1_000)).toBe('ok');
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'performance'] });
    vi.advanceTimersByTime(1_500);
    vi.useRealTimers();
    expect(conn.socket.destroyed).toBe(false);
    expect(await exchange(conn, '/', 1_000)).toBe('ok');
    c.close();
  });

  it('times out the next exchange after its full read timeout', async () => {
    const c = new Connector();
    const peer = new HttpPeer(`127.0.0.1:${await origin()}`, false, '');
    const conn = await c.newHttpSession(peer);
    expect(await exchange(conn, '/', 300)).toBe('ok');
    const t0 = performance.now();
    const err = (await exchange(conn, '/hang', 300).catch((e) => e)) as PingoraError;
    expect(err.type).toBe(ErrorType.ReadTimedout);
    // The restarted timer counts from the second request, not from the first.
    expect(performance.now() - t0).toBeGreaterThanOrEqual(295);
    expect(conn.socket.destroyed).toBe(true);
  });
});
