import http from 'node:http';
import net from 'node:net';
import type { PingoraError } from '@pingora-ts/error';
import { RequestHeader } from '@pingora-ts/http';
import { afterEach, describe, expect, it } from 'vitest';
import { Connector } from '../upstream/connector.js';
import { HttpPeer } from '../upstream/peer.js';
import { H1ClientSession } from './h1-client.js';
import type { UpstreamSession } from './upstream-session.js';

// Plaintext upstream connections read into one shared buffer (net's `onread`): every byte a
// handler keeps must be its own copy, whatever later reads write into that buffer.
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

function pattern(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

async function listen(server: net.Server): Promise<number> {
  closers.push(() => new Promise((r) => server.close(() => r())));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as net.AddressInfo).port;
}

/** One GET; keeps the body chunks as handed over (no copy) and joins them at the end. */
function get(conn: UpstreamSession, path: string): Promise<{ chunks: Buffer[]; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const req = RequestHeader.build('GET', path);
    req.insertHeader('Host', 'a');
    conn.sendRequest(
      req,
      {
        onResponseHeader: () => {},
        onResponseBody: (c) => chunks.push(c),
        onResponseTrailers: () => {},
        onResponseEnd: () => resolve({ chunks, body: Buffer.concat(chunks) }),
        onError: (e: PingoraError) => reject(e),
      },
      'none',
      { readTimeout: 10_000, writeTimeout: undefined },
    );
  });
}

describe('H1ClientSession direct reads', () => {
  it('hands out body chunks that later reads do not overwrite', async () => {
    const big = pattern(300_000, 7);
    const small = pattern(11, 99);
    const server = http.createServer((req, res) => res.end(req.url === '/big' ? big : small));
    closers.push(async () => server.closeAllConnections());
    const port = await listen(server);
    const c = new Connector();
    const peer = new HttpPeer(`127.0.0.1:${port}`, false, '');
    const conn = await c.newHttpSession(peer);
    const first = await get(conn, '/big');
    expect(first.chunks.length).toBeGreaterThan(1);
    expect(first.body.equals(big)).toBe(true);
    c.releaseHttpSession(conn, peer);
    const [again] = await c.getHttpSession(peer);
    expect(again).toBe(conn);
    const second = await get(again, '/small');
    // The first response's chunks are untouched by the reads of the second.
    expect(Buffer.concat(first.chunks).equals(big)).toBe(true);
    expect(second.body.equals(small)).toBe(true);
    c.close();
  });

  it('gives the socket and the bytes after a 101 to the new owner as a stream', async () => {
    // A raw origin: 101, then tunnel bytes in the same write and an echo of whatever comes next.
    const server = net.createServer((s) => {
      s.once('data', () => {
        s.write('HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: x\r\n\r\nearly');
        s.on('data', (d) => s.write(d));
      });
    });
    const port = await listen(server);
    const c = new Connector();
    const conn = (await c.newHttpSession(new HttpPeer(`127.0.0.1:${port}`, false, ''))) as H1ClientSession;
    expect(conn).toBeInstanceOf(H1ClientSession);
    const upgraded = new Promise<{ socket: net.Socket; head: Buffer | undefined }>((resolve, reject) => {
      const req = RequestHeader.build('GET', '/');
      req.insertHeader('Host', 'a');
      req.insertHeader('Connection', 'upgrade');
      req.insertHeader('Upgrade', 'x');
      conn.sendRequest(
        req,
        {
          onResponseHeader: () => {},
          onResponseBody: () => {},
          onResponseTrailers: () => {},
          onResponseEnd: () => reject(new Error('ended without upgrade')),
          onError: reject,
          onUpgrade: (socket, head) => resolve({ socket, head }),
        },
        'none',
        { readTimeout: 10_000, writeTimeout: undefined },
      );
    });
    const { socket, head } = await upgraded;
    expect(head?.toString()).toBe('early');
    const echoed = new Promise<string>((resolve) => {
      let got = '';
      socket.on('data', (d: Buffer) => {
        got += d.toString();
        if (got.length >= 5) resolve(got);
      });
    });
    socket.write('hello');
    expect(await echoed).toBe('hello');
    // The head handed over is a copy: it survives the reads that followed.
    expect(head?.toString()).toBe('early');
    socket.destroy();
  });
});
