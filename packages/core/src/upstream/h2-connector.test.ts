import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorType, type PingoraError } from '@pingora-ts/error';
import { RequestHeader } from '@pingora-ts/http';
import { waitFor } from '@pingora-ts/test-utils';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  DATA,
  END_HEADERS,
  END_STREAM,
  frame,
  HEADERS,
  headerBlock,
  PREFACE,
  parseFrames,
  SETTINGS,
} from '../../test/h2-frames.js';
import { ClientSession } from '../protocols/client-session.js';
import { H1ClientSession, type UpstreamSession } from '../protocols/h1-client.js';
import { H2ClientSession } from '../protocols/h2-client.js';
import { Connector } from './connector.js';
import { HttpPeer } from './peer.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../../../tls-openssl/test/fixtures');
const fx = (name: string) => readFileSync(join(FIXTURES, name));
const { NGHTTP2_REFUSED_STREAM, NGHTTP2_HTTP_1_1_REQUIRED, NGHTTP2_CANCEL } = http2.constants;
const WINDOW_UPDATE = 0x8;

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

  it('over TLS, a body parsed in the same go as its head reaches the handler after the head', async () => {
    // node:http2 emits 'response' on a later tick but hands out DATA as it parses it. A TLS session
    // with a write in progress stops parsing at a DATA frame and parses the rest when the write
    // completes, where HEADERS and DATA of another stream then go through in one go: a flowing
    // stream gave its body before its head (a proxy then answered with a bare 200 and lost the
    // gRPC trailers). A raw origin stalls the client's upload to get exactly that.
    // SETTINGS_INITIAL_WINDOW_SIZE and a connection WINDOW_UPDATE to the maximum: the upload only
    // ever waits for the socket.
    const initialWindow = Buffer.from([0, 4, 0x7f, 0xff, 0xff, 0xff]);
    const connWindow = Buffer.alloc(4);
    connWindow.writeUInt32BE(0x7fffffff - 65535);
    const sockets = new Set<tls.TLSSocket>();
    const origin = tls.createServer(
      { cert: fx('origin.test.pem'), key: fx('origin.test.key'), ALPNProtocols: ['h2'] },
      (sock) => {
        sockets.add(sock);
        sock.on('error', () => {});
        sock.write(
          Buffer.concat([frame(SETTINGS, 0, 0, initialWindow), frame(WINDOW_UPDATE, 0, 0, connWindow)]),
        );
        let buf = Buffer.alloc(0);
        sock.on('data', function read(c: Buffer) {
          buf = Buffer.concat([buf, c]);
          if (buf.length < PREFACE.length) return;
          const frames = parseFrames(buf.subarray(PREFACE.length));
          const heads = frames.filter((f) => f.type === HEADERS);
          if (heads.length < 2) return;
          // Stream `small` waits for its answer; `upload` gets its head, then its upload stalls.
          const [small, upload] = [heads[0]!.streamId, heads[1]!.streamId];
          sock.off('data', read);
          sock.pause();
          sock.write(
            Buffer.concat([
              frame(SETTINGS, 1, 0),
              frame(HEADERS, END_HEADERS, upload, headerBlock([[':status', '200']])),
            ]),
          );
          setTimeout(() => {
            sock.write(
              Buffer.concat([
                frame(DATA, 0, upload, Buffer.from('x')),
                frame(
                  HEADERS,
                  END_HEADERS,
                  small,
                  headerBlock([
                    [':status', '200'],
                    ['content-type', 'application/grpc'],
                  ]),
                ),
                frame(DATA, 0, small, Buffer.from('hello')),
                frame(HEADERS, END_HEADERS | END_STREAM, small, headerBlock([['grpc-status', '0']])),
              ]),
            );
            // Reading again completes the client's write, which parses the rest.
            setTimeout(() => sock.resume().on('data', () => {}), 50);
          }, 100);
        });
      },
    );
    await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
    cleanups.push(() => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => origin.close(r));
    });
    const c = newConnector();
    const peer = new HttpPeer(`127.0.0.1:${(origin.address() as net.AddressInfo).port}`, true, 'origin.test');
    peer.options.ca = fx('ca.pem');
    peer.options.alpn = 'h2';
    peer.options.maxH2Streams = 2;
    const timeouts = { readTimeout: undefined, writeTimeout: undefined };
    const ignore = {
      onResponseHeader() {},
      onResponseBody() {},
      onResponseTrailers() {},
      onResponseEnd() {},
      onError() {},
    };

    const [small] = await c.getHttpSession(peer);
    const events: string[] = [];
    const done = new Promise<void>((resolve, reject) => {
      const req = RequestHeader.build('GET', '/small');
      req.insertHeader('Host', 'origin.test');
      small.sendRequest(
        req,
        {
          onResponseHeader: () => events.push('head'),
          onResponseBody: (b) => events.push(`body ${b}`),
          onResponseTrailers: (t) => events.push(`trailers ${t.join(' ')}`),
          onResponseEnd: () => resolve(),
          onError: reject,
        },
        'none',
        timeouts,
      );
    });
    const [upload, reused] = await c.getHttpSession(peer);
    expect(reused).toBe(true);
    const req = RequestHeader.build('POST', '/upload');
    req.insertHeader('Host', 'origin.test');
    upload.sendRequest(req, ignore, 'stream', timeouts);
    const chunk = Buffer.alloc(64 * 1024);
    let left = 1024; // more than the socket buffers hold while the origin does not read
    const pump = (): void => {
      while (left-- > 0) {
        if (!upload.writeBody(chunk)) {
          upload.onDrain(pump);
          return;
        }
      }
    };
    pump();

    await done;
    // Trailers may be reported before a body still buffered behind them; they apply at the end.
    expect(events[0]).toBe('head');
    expect(events).toContain('body hello');
    expect(events).toContain('trailers grpc-status 0');
    upload.destroy();
    c.releaseHttpSession(small, peer);
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
