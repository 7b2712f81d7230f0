import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorType, type PingoraError } from '@pingora-ts/error';
import { RequestHeader } from '@pingora-ts/http';
import { waitFor } from '@pingora-ts/test-utils';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { frame, SETTINGS } from '../../test/h2-frames.js';
import { ClientSession } from '../protocols/client-session.js';
import { H1ClientSession } from '../protocols/h1-client.js';
import type { UpstreamSession } from '../protocols/upstream-session.js';
import { H2ClientSession } from '../protocols/h2-client.js';
import { Connector } from './connector.js';
import { HttpPeer } from './peer.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../../../tls-openssl/test/fixtures');
const fx = (name: string) => readFileSync(join(FIXTURES, name));
const { NGHTTP2_REFUSED_STREAM, NGHTTP2_HTTP_1_1_REQUIRED, NGHTTP2_CANCEL } = http2.constants;

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  vi.useRealTimers();
  while (cleanups.length > 0) await cleanups.pop()!();
});

type Handler = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void;

interface Origin {
  port: number;
  sessions: http2.ServerHttp2Session[];
  streams: number;
  /** rstCode of every stream closed on the origin, in order. */
  closed: number[];
}

async function h2Origin(handler: Handler, secure = false): Promise<Origin> {
  const server = secure
    ? http2.createSecureServer({ cert: fx('origin.test.pem'), key: fx('origin.test.key'), allowHTTP1: true })
    : http2.createServer();
  const o: Origin = { port: 0, sessions: [], streams: 0, closed: [] };
  server.on('session', (s) => {
    o.sessions.push(s);
    s.on('error', () => {});
  });
  server.on('stream', (stream, headers) => {
    o.streams++;
    stream.on('error', () => {});
    stream.on('close', () => o.closed.push(stream.rstCode ?? 0));
    handler(stream, headers);
  });
  if (secure) {
    // allowHTTP1: answer HTTP/1.1 requests too (the h2h1 fallback).
    server.on('request', (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => {
      if (req.httpVersion !== '2.0') res.end(`h1 ${req.url}`);
    });
  }
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  o.port = (server.address() as net.AddressInfo).port;
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        for (const s of o.sessions) s.destroy();
        server.close(() => r());
      }),
  );
  return o;
}

const ok: Handler = (stream, headers) => {
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  stream.on('end', () => {
    stream.respond(
      { ':status': 200, 'x-path': String(headers[':path']), 'x-te': String(headers.te) },
      { waitForTrailers: true },
    );
    stream.once('wantTrailers', () => {
      // With allowHTTP1 node's compat layer also watches h2 streams and may send (empty) trailers first.
      if (!stream.sentTrailers) stream.sendTrailers({ 'x-len': String(Buffer.concat(chunks).length) });
    });
    stream.end(`echo:${Buffer.concat(chunks).toString()}`);
  });
};

function h2cPeer(port: number, maxStreams = 1): HttpPeer {
  const p = new HttpPeer(`127.0.0.1:${port}`, false, '');
  p.options.alpn = 'h2';
  p.options.maxH2Streams = maxStreams;
  return p;
}

function newConnector(): Connector {
  const c = new Connector();
  cleanups.push(() => c.close());
  return c;
}

async function exchange(
  conn: UpstreamSession,
  path = '/',
  body?: string,
): Promise<{ status: number; body: string; trailers: string[] | undefined; headers: string[] }> {
  const s = new ClientSession(conn);
  const req = RequestHeader.build(body === undefined ? 'GET' : 'POST', path);
  req.insertHeader('Host', 'origin.test');
  if (body !== undefined) req.insertHeader('Content-Length', Buffer.byteLength(body));
  s.writeRequestHeader(req);
  if (body !== undefined) {
    s.writeRequestBody(Buffer.from(body));
    s.finishRequestBody();
  }
  const resp = await s.readResponseHeader();
  let text = '';
  for (let c = await s.readResponseBody(); c !== undefined; c = await s.readResponseBody()) text += c;
  return { status: resp.status, body: text, trailers: s.responseTrailers(), headers: resp.rawHeaders };
}

describe('Connector with HTTP/2 upstreams', () => {
  it('times connect and TLS on the stream that opened the connection; later streams report 0', async () => {
    const o = await h2Origin(ok, true);
    const c = newConnector();
    const peer = new HttpPeer(`127.0.0.1:${o.port}`, true, 'origin.test');
    peer.options.ca = fx('ca.pem');
    peer.options.alpn = 'h2';
    peer.options.maxH2Streams = 4;
    const first = await c.newHttpSession(peer);
    expect(first.timing.connect).toBeGreaterThan(0);
    expect(first.timing.tlsHandshake).toBeGreaterThan(0);
    await exchange(first);
    expect(first.timing.firstByte).toBeGreaterThan(first.timing.requestSent);
    c.releaseHttpSession(first, peer);
    const second = c.reusedHttpSession(peer)!;
    expect(second.reused).toBe(true);
    expect(second.timing).toMatchObject({ connect: 0, tlsHandshake: 0, firstByte: 0 });
    await exchange(second);
    expect(second.timing.firstByte).toBeGreaterThan(second.timing.requestSent);
    c.releaseHttpSession(second, peer);
  });

  it('speaks h2c with prior knowledge and carries bodies and trailers', async () => {
    const o = await h2Origin(ok);
    const c = newConnector();
    const peer = h2cPeer(o.port);
    const conn = await c.newHttpSession(peer);
    expect(conn).toBeInstanceOf(H2ClientSession);
    expect(conn.httpVersion).toBe(2);
    const r = await exchange(conn, '/x?y=1', 'hello');
    expect(r).toMatchObject({ status: 200, body: 'echo:hello', trailers: ['x-len', '5'] });
    expect(r.headers).toContain('x-path');
    expect(r.headers[r.headers.indexOf('x-path') + 1]).toBe('/x?y=1');
    c.releaseHttpSession(conn, peer);
  });

  it('shares one connection between concurrent streams up to maxH2Streams', async () => {
    const o = await h2Origin(ok);
    const c = newConnector();
    const peer = h2cPeer(o.port, 10);
    const conns = await Promise.all(Array.from({ length: 10 }, () => c.getHttpSession(peer)));
    expect(o.sessions.length).toBe(1);
    expect(c.stats.connectionsCreated).toBe(1);
    const results = await Promise.all(conns.map(([s], i) => exchange(s, `/${i}`)));
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(200));
    for (const [s] of conns) c.releaseHttpSession(s, peer);
    const [again, reused] = await c.getHttpSession(peer);
    expect(reused).toBe(true);
    expect(again.reused).toBe(true);
    expect((await exchange(again)).status).toBe(200);
    expect(o.sessions.length).toBe(1);
  });

  it('opens another connection when every stream slot is taken', async () => {
    const o = await h2Origin(ok);
    const c = newConnector();
    const peer = h2cPeer(o.port, 2);
    const conns = await Promise.all(Array.from({ length: 5 }, () => c.getHttpSession(peer)));
    expect(c.stats.connectionsCreated).toBe(3);
    const perConnection = new Map<unknown, number>();
    for (const [s] of conns) {
      const k = (s as H2ClientSession).connection;
      perConnection.set(k, (perConnection.get(k) ?? 0) + 1);
    }
    expect([...perConnection.values()].sort()).toEqual([1, 2, 2]);
    await Promise.all(conns.map(([s]) => exchange(s)));
    for (const [s] of conns) c.releaseHttpSession(s, peer);
    expect(c.h2Pool.idleSize).toBe(3);
  });

  it('REFUSED_STREAM fails the exchange with a retryable error', async () => {
    const o = await h2Origin((stream) => stream.close(NGHTTP2_REFUSED_STREAM));
    const c = newConnector();
    const conn = await c.newHttpSession(h2cPeer(o.port));
    const e = (await exchange(conn).catch((x) => x)) as PingoraError;
    expect(e.type).toBe(ErrorType.H2Error);
    expect(e.retry()).toBe(true);
    expect(e.source).toBe('Upstream');
  });

  it('GOAWAY drains the connection: streams above last-stream-id are retryable, new ones go to a fresh connection', async () => {
    let first = true;
    const o = await h2Origin((stream, headers) => {
      if (first) {
        first = false;
        stream.session!.goaway(0, stream.id);
        setTimeout(() => ok(stream, headers), 20);
        return;
      }
      ok(stream, headers);
    });
    const c = newConnector();
    const peer = h2cPeer(o.port, 10);
    const [a] = await c.getHttpSession(peer);
    const [b] = await c.getHttpSession(peer);
    const ra = exchange(a, '/first');
    const rb = exchange(b, '/second').catch((x) => x as PingoraError);
    expect((await ra).status).toBe(200);
    const eb = (await rb) as PingoraError;
    expect(eb.retry()).toBe(true);
    // The drained session is never handed out again.
    const [fresh, reused] = await c.getHttpSession(peer);
    expect(reused).toBe(false);
    expect((await exchange(fresh, '/third')).status).toBe(200);
    expect(o.sessions.length).toBe(2);
  });

  it('a new stream on a session that already got GOAWAY is a retryable failure, never a throw', async () => {
    const o = await h2Origin(ok);
    const c = newConnector();
    const peer = h2cPeer(o.port, 10);
    const [a] = await c.getHttpSession(peer);
    const [b] = await c.getHttpSession(peer);
    await exchange(a);
    const goaway = once((b as H2ClientSession).connection.session, 'goaway');
    o.sessions[0]!.goaway(0, 1);
    await goaway;
    const e = (await exchange(b).catch((x) => x)) as PingoraError;
    expect(e.retry()).toBe(true);
    expect(c.reusedHttpSession(peer)).toBeUndefined();
  });

  it('a stale session (origin closed it) is evicted; the next request opens a new one', async () => {
    const o = await h2Origin(ok);
    const c = newConnector();
    const peer = h2cPeer(o.port, 10);
    const [a] = await c.getHttpSession(peer);
    await exchange(a);
    c.releaseHttpSession(a, peer);
    expect(c.h2Pool.idleSize).toBe(1);
    const closed = once((a as H2ClientSession).connection.session, 'close');
    o.sessions[0]!.destroy();
    await closed;
    expect(c.h2Pool.idleSize).toBe(0);
    expect(c.reusedHttpSession(peer)).toBeUndefined();
    const [b, reused] = await c.getHttpSession(peer);
    expect(reused).toBe(false);
    expect((await exchange(b)).status).toBe(200);
  });

  it('destroy() cancels only its stream with RST_STREAM(CANCEL)', async () => {
    const o = await h2Origin((stream, headers) => {
      if (headers[':path'] === '/hang') stream.respond({ ':status': 200 });
      else ok(stream, headers);
    });
    const c = newConnector();
    const peer = h2cPeer(o.port, 10);
    const [a] = await c.getHttpSession(peer);
    const s = new ClientSession(a);
    const req = RequestHeader.build('GET', '/hang');
    req.insertHeader('Host', 'x');
    s.writeRequestHeader(req);
    await s.readResponseHeader();
    a.destroy();
    await waitFor(() => o.closed.length > 0, { message: 'the origin to see the stream close' });
    expect(o.closed).toEqual([NGHTTP2_CANCEL]);
    const [b, reused] = await c.getHttpSession(peer);
    expect(reused).toBe(true);
    expect((await exchange(b)).status).toBe(200);
  });

  it('HTTP_1_1_REQUIRED is H2Downgrade; with h2h1 it is retryable and later connections use HTTP/1.1', async () => {
    const o = await h2Origin((stream) => stream.close(NGHTTP2_HTTP_1_1_REQUIRED), true);
    const c = newConnector();
    const peer = new HttpPeer(`127.0.0.1:${o.port}`, true, 'origin.test');
    peer.options.ca = fx('ca.pem');
    peer.options.alpn = 'h2h1';
    const conn = await c.newHttpSession(peer);
    expect(conn).toBeInstanceOf(H2ClientSession);
    expect((conn.socket as import('node:tls').TLSSocket).alpnProtocol).toBe('h2');
    const e = (await exchange(conn).catch((x) => x)) as PingoraError;
    expect(e.type).toBe(ErrorType.H2Downgrade);
    expect(e.retry()).toBe(true);
    const h1 = await c.newHttpSession(peer);
    expect(h1).toBeInstanceOf(H1ClientSession);
    expect((h1.socket as import('node:tls').TLSSocket).alpnProtocol).toBe('http/1.1');
    expect((await exchange(h1, '/after')).body).toBe('h1 /after');
  });

  it('HTTP_1_1_REQUIRED on an h2-only peer is not retryable', async () => {
    const o = await h2Origin((stream) => stream.close(NGHTTP2_HTTP_1_1_REQUIRED));
    const c = newConnector();
    const e = (await exchange(await c.newHttpSession(h2cPeer(o.port))).catch((x) => x)) as PingoraError;
    expect(e.type).toBe(ErrorType.H2Downgrade);
    expect(e.retry()).toBe(false);
  });

  it('TLS with ALPN h2 uses HTTP/2; an origin that picks http/1.1 gets HTTP/1.1', async () => {
    const o = await h2Origin(ok, true);
    const c = newConnector();
    const peer = new HttpPeer(`127.0.0.1:${o.port}`, true, 'origin.test');
    peer.options.ca = fx('ca.pem');
    peer.options.alpn = 'h2';
    const conn = await c.newHttpSession(peer);
    expect(conn.httpVersion).toBe(2);
    expect((await exchange(conn, '/tls', 'x')).body).toBe('echo:x');
    const h1peer = new HttpPeer(`127.0.0.1:${o.port}`, true, 'origin.test');
    h1peer.options.ca = fx('ca.pem');
    const h1 = await c.newHttpSession(h1peer);
    expect(h1.httpVersion).toBe(1);
    expect((await exchange(h1, '/plain')).body).toBe('h1 /plain');
  });

  it('h2c prior knowledge to an HTTP/1-only origin fails as InvalidH2 (not retryable without h1)', async () => {
    const server = net.createServer((s) => {
      s.on('error', () => {});
      s.resume();
      s.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => server.close(r)));
    const c = newConnector();
    const conn = await c.newHttpSession(h2cPeer((server.address() as net.AddressInfo).port));
    const e = (await exchange(conn).catch((x) => x)) as PingoraError;
    expect(e.type).toBe(ErrorType.InvalidH2);
    expect(e.retry()).toBe(false);
  });

  it('PING keep-alive: an origin that stops answering PINGs is dropped', async () => {
    // A bare h2 origin that completes the handshake but never acknowledges PINGs.
    const server = net.createServer((s) => {
      s.on('error', () => {});
      s.write(Buffer.concat([frame(SETTINGS, 0, 0), frame(SETTINGS, 0x1, 0)]));
      s.resume();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => server.close(r)));
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const c = newConnector();
    const peer = h2cPeer((server.address() as net.AddressInfo).port, 10);
    peer.options.h2PingInterval = 1_000;
    const conn = (await c.newHttpSession(peer)) as H2ClientSession;
    const session = conn.connection.session;
    if (!conn.connection.connected) await once(session, 'connect');
    conn.destroy();
    vi.advanceTimersByTime(1_000); // first PING goes out
    expect(session.destroyed).toBe(false);
    vi.advanceTimersByTime(1_000); // still unanswered: the connection is dead
    expect(session.destroyed).toBe(true);
    expect(c.reusedHttpSession(peer)).toBeUndefined();
  });

  it('PING keep-alive keeps a healthy connection', async () => {
    const o = await h2Origin(ok);
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const c = newConnector();
    const peer = h2cPeer(o.port, 10);
    peer.options.h2PingInterval = 1_000;
    const conn = (await c.newHttpSession(peer)) as H2ClientSession;
    const pinged = once(o.sessions[0]!, 'ping');
    vi.advanceTimersByTime(1_000);
    await pinged;
    await waitFor(() => !(conn.connection as unknown as { pingPending: boolean }).pingPending, {
      message: 'the PING ack',
    });
    vi.advanceTimersByTime(1_000);
    expect(conn.connection.session.destroyed).toBe(false);
    expect((await exchange(conn)).status).toBe(200);
  });
});
