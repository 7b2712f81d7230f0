/**
 * The protocol-neutral response contract: both clients hand the handler a ready `ResponseHeader`
 * and the same body facts, whatever the wire said.
 */
import http2 from 'node:http2';
import net from 'node:net';
import type { PingoraError } from '@pingora-ts/error';
import { RequestHeader, type ResponseHeader } from '@pingora-ts/http';
import { afterEach, describe, expect, it } from 'vitest';
import { Connector } from '../upstream/connector.js';
import { HttpPeer } from '../upstream/peer.js';
import type { UpstreamResponseFacts, UpstreamResponseHandler, UpstreamSession } from './upstream-session.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

function track(server: net.Server, sockets: Set<{ destroy(): void }>): void {
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  );
}

/** A TCP origin that answers each request head with `answer` (and closes after an HTTP/1.0 one). */
async function rawOrigin(answer: string): Promise<number> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.on('data', (d) => {
      if (!d.includes('\r\n\r\n')) return;
      // An HTTP/1.0 answer without a length is delimited by the close.
      if (answer.startsWith('HTTP/1.0')) s.end(answer);
      else s.write(answer);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  track(server, sockets);
  return (server.address() as net.AddressInfo).port;
}

interface Seen {
  resp: ResponseHeader;
  facts: UpstreamResponseFacts;
  body: string;
  informational: number[];
}

/** One exchange; the facts are copied when the head arrives (the session owns the record). */
function exchange(conn: UpstreamSession, method = 'GET'): Promise<Seen> {
  return new Promise((resolve, reject) => {
    let seen: Seen | undefined;
    const informational: number[] = [];
    const handler: UpstreamResponseHandler = {
      onInformational: (r) => informational.push(r.status),
      onResponseHeader: (resp, facts) => (seen = { resp, facts: { ...facts }, body: '', informational }),
      onResponseBody: (c) => (seen!.body += c),
      onResponseTrailers: () => {},
      onResponseEnd: () => resolve(seen!),
      onError: (e: PingoraError) => reject(e),
      onUpgrade: (socket) => {
        socket.destroy();
        resolve(seen!);
      },
    };
    const req = RequestHeader.build(method, '/');
    req.insertHeader('Host', 'origin.test');
    conn.sendRequest(req, handler, 'none', { readTimeout: 10_000, writeTimeout: 10_000 });
  });
}

async function h1(answer: string, method = 'GET'): Promise<Seen> {
  const port = await rawOrigin(answer);
  const c = new Connector();
  cleanups.push(() => c.close());
  const [conn] = await c.getHttpSession(new HttpPeer(`127.0.0.1:${port}`, false, ''));
  try {
    return await exchange(conn, method);
  } finally {
    conn.destroy();
  }
}

describe('HTTP/1.x responses through the upstream contract', () => {
  it.each([
    ['Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi', 'GET', 'length', 2, 'hi'],
    [
      'chunked',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n',
      'GET',
      'stream',
      -1,
      'hi',
    ],
    ['close-delimited', 'HTTP/1.0 200 OK\r\n\r\nhi', 'GET', 'stream', -1, 'hi'],
    ['204', 'HTTP/1.1 204 No Content\r\n\r\n', 'GET', 'none', -1, ''],
    ['HEAD', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n', 'HEAD', 'none', -1, ''],
  ])('%s body', async (_name, answer, method, body, contentLength, text) => {
    const seen = await h1(answer, method);
    expect(seen.facts).toEqual({ body, contentLength, upgrade: false });
    expect(seen.body).toBe(text);
  });

  it('1xx heads arrive as ResponseHeaders before the final one', async () => {
    const seen = await h1(
      'HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n',
    );
    expect(seen.informational).toEqual([103]);
    expect(seen.resp.status).toBe(200);
    expect(seen.resp.version).toBe('1.1');
  });

  it('a 101 is an upgrade with no body', async () => {
    const seen = await h1(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n',
    );
    expect(seen.resp.status).toBe(101);
    expect(seen.facts).toEqual({ body: 'none', contentLength: -1, upgrade: true });
  });
});

describe('HTTP/2 responses through the upstream contract', () => {
  it('version 2 heads; body facts from END_STREAM and content-length', async () => {
    const server = http2.createServer();
    const sessions = new Set<http2.ServerHttp2Session>();
    server.on('session', (s) => {
      sessions.add(s);
      s.on('error', () => {});
    });
    server.on('stream', (stream, headers) => {
      stream.on('error', () => {});
      const path = headers[':path'];
      if (path === '/none') stream.respond({ ':status': 204 }, { endStream: true });
      else if (path === '/length') {
        stream.respond({ ':status': 200, 'content-length': '2' });
        stream.end('hi');
      } else {
        stream.respond({ ':status': 200 });
        stream.end('hi');
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    track(server, sessions);
    const peer = new HttpPeer(`127.0.0.1:${(server.address() as net.AddressInfo).port}`, false, '');
    peer.options.alpn = 'h2';
    peer.options.maxH2Streams = 3;
    const c = new Connector();
    cleanups.push(() => c.close());
    const expected: Record<string, UpstreamResponseFacts> = {
      '/none': { body: 'none', contentLength: -1, upgrade: false },
      '/length': { body: 'length', contentLength: 2, upgrade: false },
      '/stream': { body: 'stream', contentLength: -1, upgrade: false },
    };
    for (const [path, facts] of Object.entries(expected)) {
      const [conn] = await c.getHttpSession(peer);
      const seen = await new Promise<Seen>((resolve, reject) => {
        let s: Seen | undefined;
        const req = RequestHeader.build('GET', path);
        req.insertHeader('Host', 'origin.test');
        conn.sendRequest(
          req,
          {
            onResponseHeader: (resp, f) => (s = { resp, facts: { ...f }, body: '', informational: [] }),
            onResponseBody: (chunk) => (s!.body += chunk),
            onResponseTrailers: () => {},
            onResponseEnd: () => resolve(s!),
            onError: reject,
          },
          'none',
          { readTimeout: 10_000, writeTimeout: 10_000 },
        );
      });
      c.releaseHttpSession(conn, peer);
      expect(seen.resp.version, path).toBe('2');
      expect(seen.facts, path).toEqual(facts);
      expect(seen.body, path).toBe(path === '/none' ? '' : 'hi');
    }
  });
});
