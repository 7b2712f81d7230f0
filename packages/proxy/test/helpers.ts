/**
 * Test fixtures: real origins, a real proxy service on port 0, and raw-socket clients for framing
 * tests. Everything listens on 127.0.0.1 and is closed by `closeAll()` after each test.
 */
import http from 'node:http';
import net from 'node:net';
import { HttpPeer, HttpServer, type Logger, Service, ShutdownController } from '@pingora-ts/core';
import { expect } from 'vitest';
import { HttpProxy, type HttpProxyOptions, type ProxyHttp } from '../src/index.js';

const closers: Array<() => Promise<void> | void> = [];

/** Closes every server, socket and service opened by the helpers. */
export async function closeAll(): Promise<void> {
  while (closers.length > 0) await closers.pop()!();
}

/** An origin server; `sockets` counts TCP connections it accepted. */
export interface Origin {
  port: number;
  server: http.Server;
  connections: number;
  peer(): HttpPeer;
}

export async function startOrigin(
  handler: http.RequestListener,
  opts: http.ServerOptions = {},
): Promise<Origin> {
  const server = http.createServer(opts, handler);
  const origin: Origin = {
    port: 0,
    server,
    connections: 0,
    peer: () => new HttpPeer(`127.0.0.1:${origin.port}`, false, ''),
  };
  server.on('connection', () => origin.connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin.port = (server.address() as net.AddressInfo).port;
  closers.push(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return origin;
}

/** A raw TCP origin for framing tests: `onConnection` gets each socket. */
export async function startRawOrigin(
  onConnection: (s: net.Socket) => void,
): Promise<{ port: number; peer(): HttpPeer }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    onConnection(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  closers.push(
    () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  );
  return { port, peer: () => new HttpPeer(`127.0.0.1:${port}`, false, '') };
}

/** Log lines captured by {@link memoryLogger}. */
export interface CapturedLog {
  level: string;
  msg: string;
  obj?: unknown;
}

/** A logger that records lines, for asserting on log output. */
export function memoryLogger(lines: CapturedLog[] = []): Logger & { lines: CapturedLog[] } {
  const make = (level: string) =>
    ((a: unknown, b?: unknown) => {
      if (typeof a === 'string') lines.push({ level, msg: a });
      else lines.push({ level, msg: typeof b === 'string' ? b : '', obj: a });
    }) as Logger['info'];
  const logger = {
    level: 'trace',
    lines,
    trace: make('trace'),
    debug: make('debug'),
    info: make('info'),
    warn: make('warn'),
    error: make('error'),
    fatal: make('fatal'),
    child: () => logger,
  };
  return logger as unknown as Logger & { lines: CapturedLog[] };
}

/** A proxy service on 127.0.0.1:0 running `inner`. */
export async function startProxy<Ctx>(
  inner: ProxyHttp<Ctx>,
  options: HttpProxyOptions = {},
): Promise<{ port: number; proxy: HttpProxy<Ctx>; logs: CapturedLog[]; url(path?: string): string }> {
  const logger = memoryLogger();
  const proxy = new HttpProxy(inner, { logger, ...options });
  const service = new Service('test proxy', new HttpServer(proxy), { logger });
  service.addTcp('127.0.0.1:0');
  const ctl = new ShutdownController();
  await service.start(ctl.watch);
  const bound = service.addresses()[0];
  const port = bound?.kind === 'tcp' ? bound.port : 0;
  closers.push(async () => {
    ctl.shutdown(false);
    await service.stop(false, 0);
  });
  return { port, proxy, logs: logger.lines, url: (path = '/') => `http://127.0.0.1:${port}${path}` };
}

/** Sends raw bytes and collects everything the server sends until it closes or `idleMs` passes quietly. */
export function rawRequest(port: number, data: string | Buffer, idleMs = 300): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    const done = () => {
      clearTimeout(timer);
      s.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(done, idleMs);
    };
    s.on('data', (c) => {
      chunks.push(c);
      arm();
    });
    s.on('error', done);
    s.on('close', done);
    s.write(data);
    arm();
  });
}

/** One request with node:http; resolves with status, headers, raw headers, body and trailers. */
export function request(
  url: string,
  opts: http.RequestOptions & { body?: string | Buffer } = {},
): Promise<{
  status: number;
  headers: http.IncomingHttpHeaders;
  raw: string[];
  body: string;
  trailers: Record<string, string | undefined>;
}> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { agent: false, ...opts }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode!,
          headers: res.headers,
          raw: res.rawHeaders,
          body: Buffer.concat(chunks).toString(),
          trailers: res.trailers,
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Polls `cond` on the event loop (bounded), for effects that land after a response. */
export async function waitFor(cond: () => boolean, tries = 500): Promise<void> {
  for (let i = 0; i < tries && !cond(); i++) await new Promise((r) => setTimeout(r, 2));
  expect(cond()).toBe(true);
}
