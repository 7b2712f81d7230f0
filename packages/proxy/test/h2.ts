/**
 * HTTP/2 test fixtures: h2c and TLS origins on node:http2, a client that records everything it
 * receives, and a proxy started with h2c (or behind a TLS listener that negotiates h2).
 */
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import type net from 'node:net';
import { dirname, join } from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { HttpPeer, HttpServer, ShutdownController } from '@pingora-ts/core';
import { HttpProxy, type HttpProxyOptions, type ProxyHttp } from '../src/index.js';
import { type CapturedLog, closeAll, memoryLogger, startProxy } from './helpers.js';

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../../tls-openssl/test/fixtures');
export const fixture = (name: string): Buffer => readFileSync(join(FIXTURES, name));

const closers: Array<() => unknown> = [];

/** Closes everything the h2 helpers and the shared helpers opened. */
export async function closeAllH2(): Promise<void> {
  while (closers.length > 0) await closers.pop()!();
  await closeAll();
}

export type StreamHandler = (
  stream: http2.ServerHttp2Stream,
  headers: http2.IncomingHttpHeaders,
  raw: string[],
) => void;

/** An HTTP/2 origin; counts sessions and records how each stream closed. */
export interface H2Origin {
  port: number;
  server: http2.Http2Server | http2.Http2SecureServer;
  sessions: http2.ServerHttp2Session[];
  /** RST code of each stream as it closed (0 = clean). */
  closedCodes: number[];
  peer(maxStreams?: number): HttpPeer;
}

export async function startH2Origin(handler: StreamHandler, secure = false): Promise<H2Origin> {
  const server = secure
    ? http2.createSecureServer({ cert: fixture('origin.test.pem'), key: fixture('origin.test.key') })
    : http2.createServer();
  const origin: H2Origin = {
    port: 0,
    server,
    sessions: [],
    closedCodes: [],
    peer: (maxStreams = 100) => {
      const p = new HttpPeer(`127.0.0.1:${origin.port}`, secure, secure ? 'origin.test' : '');
      p.options.alpn = 'h2';
      p.options.maxH2Streams = maxStreams;
      if (secure) p.options.ca = fixture('ca.pem');
      return p;
    },
  };
  server.on('session', (s: http2.ServerHttp2Session) => {
    origin.sessions.push(s);
    s.on('error', () => {});
  });
  server.on(
    'stream',
    (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, _f: number, raw: string[]) => {
      stream.on('error', () => {});
      stream.on('close', () => origin.closedCodes.push(stream.rstCode ?? 0));
      handler(stream, headers, raw);
    },
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin.port = (server.address() as net.AddressInfo).port;
  closers.push(
    () =>
      new Promise<void>((r) => {
        for (const s of origin.sessions) s.destroy();
        server.close(() => r());
      }),
  );
  return origin;
}

/** A proxy accepting h2c with prior knowledge (and HTTP/1.1) on 127.0.0.1:0. */
export function startH2cProxy<Ctx>(inner: ProxyHttp<Ctx>, options: HttpProxyOptions = {}) {
  return startProxy(inner, { ...options, serverOptions: { h2c: true, ...options.serverOptions } });
}

/**
 * A proxy behind a TLS listener offering h2 and http/1.1, as the TLS listener of core hands
 * connections to `HttpServer.processNew` after the handshake.
 */
export async function startTlsProxy<Ctx>(
  inner: ProxyHttp<Ctx>,
  options: HttpProxyOptions = {},
): Promise<{ port: number; proxy: HttpProxy<Ctx>; logs: CapturedLog[] }> {
  const logger = memoryLogger();
  const proxy = new HttpProxy(inner, { logger, ...options });
  const app = new HttpServer(proxy);
  const ctl = new ShutdownController();
  const server = tls.createServer(
    { cert: fixture('localhost.pem'), key: fixture('localhost.key'), ALPNProtocols: ['h2', 'http/1.1'] },
    (socket) => {
      socket.on('error', () => {});
      app.processNew(socket, ctl.watch);
    },
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(async () => {
    app.onShutdown(false);
    await new Promise((r) => server.close(r));
    await app.cleanup();
  });
  return { port: (server.address() as net.AddressInfo).port, proxy, logs: logger.lines };
}

/** An h2 client session that is destroyed after the test. */
export function h2connect(
  url: string,
  options: http2.SecureClientSessionOptions = {},
): http2.ClientHttp2Session {
  const s = http2.connect(url, options);
  s.on('error', () => {});
  closers.push(() => s.destroy());
  return s;
}

export interface H2Response {
  status: number;
  headers: http2.IncomingHttpHeaders;
  body: Buffer;
  trailers: http2.IncomingHttpHeaders | undefined;
  rstCode: number | undefined;
}

/** One request on `session`; resolves when the stream closes (also when it was reset). */
export function h2fetch(
  session: http2.ClientHttp2Session,
  headers: http2.OutgoingHttpHeaders,
  body?: Buffer | string | Array<Buffer | string>,
  trailers?: http2.OutgoingHttpHeaders,
): Promise<H2Response> {
  return new Promise((resolve) => {
    const req = session.request(headers, {
      endStream: body === undefined,
      waitForTrailers: trailers !== undefined,
    });
    if (trailers !== undefined) req.on('wantTrailers', () => req.sendTrailers(trailers));
    const out: H2Response = {
      status: 0,
      headers: {},
      body: Buffer.alloc(0),
      trailers: undefined,
      rstCode: undefined,
    };
    const chunks: Buffer[] = [];
    req.on('response', (h) => {
      out.headers = h;
      out.status = Number(h[':status']);
    });
    req.on('trailers', (t) => (out.trailers = t));
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', () => {});
    req.on('close', () => {
      out.body = Buffer.concat(chunks);
      out.rstCode = req.rstCode;
      resolve(out);
    });
    if (Array.isArray(body)) {
      for (const b of body) req.write(b);
      req.end();
    } else if (body !== undefined) req.end(body);
  });
}
