/**
 * The raw-socket HTTP/1.x engine (`h1Engine: 'pingora'`) over real sockets: keep-alive and its
 * request limit, pipelined requests answered in order, `100 Continue` only when the body is read,
 * chunked bodies and trailers both ways, refusals with the parser's status and a log line,
 * head-size limit, head and keep-alive timeouts, HEAD/204 without bodies, and upgrade takeover.
 */
import http2 from 'node:http2';
import * as net from 'node:net';
import { ResponseHeader } from '@pingora-ts/http';
import { afterEach, describe, expect, it } from 'vitest';
import { type LogEntry, memoryLogger, NODE_ENGINE_FORCED } from '../../test/helpers.js';
import { HttpServer, type HttpServerApp, type HttpServerOptions } from '../apps/http-app.js';
import { ShutdownController } from '../server/shutdown.js';
import { Service } from '../services/listening.js';
import type { HttpServerSession } from './server-session.js';

const services: Service[] = [];
const sockets: net.Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(services.splice(0).map((s) => s.stop(false, 0)));
});

// Answers by path: /echo reads the whole body and echoes it (trailers as x-trailers), /slow waits
// for `release`, /noread refuses without reading, /chunked streams a chunked response with trailers,
// /upgrade takes the socket over. Everything else: 200 "ok".
async function handle(session: HttpServerSession, release: Promise<void>): Promise<void> {
  const path = session.reqHeader().uri;
  if (path === '/echo') {
    const parts: Buffer[] = [];
    let trailers: string[] | undefined;
    await new Promise<void>((resolve, reject) => {
      session.pumpRequestBody({
        onRequestBody: (c) => parts.push(Buffer.from(c)),
        onRequestBodyEnd: (t) => {
          trailers = t;
          resolve();
        },
        onRequestBodyError: reject,
      });
    });
    const resp = ResponseHeader.build(200);
    if (trailers !== undefined) resp.insertHeader('x-trailers', trailers.join('='));
    session.writeResponseHeader(resp);
    session.writeResponseBody(Buffer.concat(parts), true);
    return;
  }
  if (path === '/slow') {
    slowSeen.push(session);
    await release;
  }
  if (path === '/noread') return session.respondErrorWithBody(403, 'no');
  if (path === '/chunked') {
    session.writeResponseHeader(ResponseHeader.build(200));
    session.writeResponseBody(Buffer.from('hello '), false);
    session.writeResponseBody(Buffer.alloc(3000, 0x61), false);
    session.writeResponseTrailers(['X-Sum', '42']);
    return;
  }
  if (path === '/upgrade') {
    const up = session.takeUpgradeSocket()!;
    const resp = ResponseHeader.build(101);
    resp.insertHeader('Upgrade', 'test');
    resp.insertHeader('Connection', 'upgrade');
    session.writeResponseHeader(resp);
    up.socket.write(`head=${up.head.toString('latin1')};`);
    up.socket.on('data', (c) => up.socket.write(`got=${c.toString('latin1')};`));
    return;
  }
  if (path === '/keepalive-field') {
    // The app says keep-alive; the server's request limit closes this connection anyway.
    const resp = ResponseHeader.build(200);
    resp.insertHeader('Connection', 'keep-alive');
    resp.insertHeader('X-After', '1');
    session.writeResponseHeader(resp);
    session.writeResponseBody(Buffer.from('kept?'), true);
    return;
  }
  if (path === '/nocontent') return session.writeResponseHeader(ResponseHeader.build(204), true);
  if (path === '/h2resp') {
    // A response header as an HTTP/2 origin's arrives: version 2.0, lowercase names.
    const resp = ResponseHeader.build(200);
    resp.setVersion('2');
    resp.insertHeader('x-from', 'h2');
    session.writeResponseHeader(resp);
    session.writeResponseBody(Buffer.from('h2 body'), true);
    return;
  }
  if (path === '/held') {
    // Takes the first body chunk, then holds the rest until released.
    await new Promise<void>((resolve, reject) => {
      session.pumpRequestBody({
        onRequestBody: () => session.pauseRequestBody(),
        onRequestBodyEnd: () => resolve(),
        onRequestBodyError: reject,
      });
      heldSessions.push(session);
    });
    return session.respondErrorWithBody(200, `read ${session.bodyBytesRead}`);
  }
  session.respondErrorWithBody(200, `ok ${path}`);
}

const heldSessions: HttpServerSession[] = [];
const slowSeen: HttpServerSession[] = [];

interface Server {
  port: number;
  logs: LogEntry[];
  release: () => void;
  svc: Service;
}

async function start(options: HttpServerOptions = {}): Promise<Server> {
  const logs: LogEntry[] = [];
  let release!: () => void;
  const released = new Promise<void>((r) => {
    release = r;
  });
  const app: HttpServerApp = { processNewHttp: (s) => handle(s, released) };
  const http = new HttpServer(app, { logger: memoryLogger(logs), h1Engine: 'pingora', ...options });
  expect(http.raw).toBeDefined();
  const svc = new Service('raw', http, { logger: memoryLogger(), bindRetry: { retries: 0, delayMs: 0 } });
  svc.addTcp('127.0.0.1:0');
  await svc.start(new ShutdownController().watch);
  services.push(svc);
  const a = svc.addresses()[0];
  if (a?.kind !== 'tcp') throw new Error('not listening on TCP');
  return { port: a.port, logs, release, svc };
}

/** A client connection recording what it receives. */
class Conn {
  readonly socket: net.Socket;
  data = '';
  readonly closed: Promise<unknown>;
  private waiters: Array<() => void> = [];

  constructor(port: number) {
    this.socket = net.connect({ port, host: '127.0.0.1' });
    sockets.push(this.socket);
    this.socket.setEncoding('latin1');
    this.socket.on('data', (c: string) => {
      this.data += c;
      for (const w of this.waiters.splice(0)) w();
    });
    this.socket.on('error', () => {});
    this.closed = new Promise((r) => this.socket.once('close', r));
  }

  send(s: string): void {
    this.socket.write(s, 'latin1');
  }

  /** Waits until the received text matches (bounded by the test timeout). */
  async until(test: (data: string) => boolean): Promise<string> {
    while (!test(this.data)) {
      await Promise.race([new Promise<void>((r) => this.waiters.push(r)), this.closed]);
      if (this.socket.destroyed && !test(this.data))
        throw new Error(`closed with: ${JSON.stringify(this.data)}`);
    }
    return this.data;
  }
}

const count = (s: string, sub: string) => s.split(sub).length - 1;

describe.skipIf(NODE_ENGINE_FORCED)('raw HTTP/1.x engine', () => {
  it('keeps a connection alive across requests', async () => {
    const { port } = await start();
    const c = new Conn(port);
    c.send('GET /a HTTP/1.1\r\nHost: x\r\n\r\n');
    await c.until((d) => d.includes('ok /a'));
    c.send('GET /b HTTP/1.1\r\nHost: x\r\n\r\n');
    const d = await c.until((d) => d.includes('ok /b'));
    expect(count(d, 'HTTP/1.1 200 OK')).toBe(2);
    expect(d).toContain('Connection: keep-alive');
    expect(d).toContain('Content-Length: 5');
  });

  it('answers pipelined requests in order, one at a time', async () => {
    const srv = await start();
    const c = new Conn(srv.port);
    c.send(
      'GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /one HTTP/1.1\r\nHost: x\r\n\r\nGET /two HTTP/1.1\r\nHost: x\r\n\r\n',
    );
    // Nothing may overtake the held first response.
    await new Promise((r) => setImmediate(r));
    expect(c.data).toBe('');
    srv.release();
    const d = await c.until((d) => d.includes('ok /two'));
    expect(d.indexOf('ok /slow')).toBeLessThan(d.indexOf('ok /one'));
    expect(d.indexOf('ok /one')).toBeLessThan(d.indexOf('ok /two'));
  });

  it('sends 100 Continue only when the body is read', async () => {
    const { port } = await start();
    const refused = new Conn(port);
    refused.send('POST /noread HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n');
    const d1 = await refused.until((d) => d.includes('\r\n\r\nno'));
    expect(d1).not.toContain('100 Continue');
    expect(d1).toMatch(/^HTTP\/1\.1 403 /);

    const read = new Conn(port);
    read.send('POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n');
    await read.until((d) => d.includes('100 Continue'));
    read.send('abc');
    const d2 = await read.until((d) => d.endsWith('3\r\nabc\r\n0\r\n\r\n'));
    expect(d2).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n/);
  });

  it('reads a chunked request body with trailers and writes a chunked response with trailers', async () => {
    const { port } = await start();
    const c = new Conn(port);
    c.send(
      'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\nX-T: 1\r\n\r\n',
    );
    // As node:http, a head written before the body is framed chunked (no Content-Length given).
    const d = await c.until((d) => d.endsWith('5\r\nabcde\r\n0\r\n\r\n'));
    expect(d).toContain('x-trailers: X-T=1');
    expect(d).toContain('Transfer-Encoding: chunked');
    c.send('GET /chunked HTTP/1.1\r\nHost: x\r\n\r\n');
    const d2 = await c.until((d) => d.endsWith('0\r\nX-Sum: 42\r\n\r\n'));
    expect(d2).toContain('Transfer-Encoding: chunked');
    expect(d2).toContain(`6\r\nhello \r\nbb8\r\n${'a'.repeat(3000)}\r\n0\r\n`);
  });

  it('refuses malformed requests with the parser status, a log line, and a close', async () => {
    const srv = await start();
    const cases: Array<[string, number]> = [
      ['GET / HTTP/2.0\r\nHost: x\r\n\r\n', 505],
      ['GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400],
      ['GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n', 400],
      ['GET ftp://a/x HTTP/1.1\r\nHost: x\r\n\r\n', 400],
    ];
    for (const [req, status] of cases) {
      const c = new Conn(srv.port);
      c.send(req);
      await c.closed;
      expect(c.data).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
      expect(c.data).toContain('Connection: close');
    }
    const lines = srv.logs.filter((l) => (l.msg ?? '').startsWith('rejected malformed request:'));
    expect(lines.map((l) => l.obj.status)).toEqual([505, 400, 400, 400]);
  });

  it('rewrites an absolute-form target to origin-form', async () => {
    const { port } = await start();
    const c = new Conn(port);
    c.send('GET http://example.com/p?q HTTP/1.1\r\nHost: other\r\n\r\n');
    expect(await c.until((d) => d.includes('ok /p?q'))).toMatch(/^HTTP\/1\.1 200/);
  });

  it('answers an oversized head with 431 and closes after keepaliveRequestLimit requests', async () => {
    const srv = await start({ maxHeaderSize: 1024, keepaliveRequestLimit: 2 });
    const big = new Conn(srv.port);
    big.send(`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(2000)}\r\n\r\n`);
    await big.closed;
    expect(big.data).toMatch(/^HTTP\/1\.1 431 /);

    const c = new Conn(srv.port);
    c.send(
      'GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\nGET /3 HTTP/1.1\r\nHost: x\r\n\r\n',
    );
    await c.closed;
    expect(c.data).toContain('ok /2');
    expect(c.data).not.toContain('ok /3');
    expect(c.data.split('HTTP/1.1 200')[2]).toContain('Connection: close');
  });

  it("a closing connection replaces the app's Connection: keep-alive with one Connection: close", async () => {
    const srv = await start({ keepaliveRequestLimit: 1 });
    const c = new Conn(srv.port);
    c.send('GET /keepalive-field HTTP/1.1\r\nHost: x\r\n\r\n');
    await c.closed;
    const head = c.data.slice(0, c.data.indexOf('\r\n\r\n'));
    expect(head).toMatch(/^HTTP\/1\.1 200 /);
    expect(head.match(/^connection:.*$/gim)).toEqual(['Connection: close']);
    expect(head).toContain('\r\nX-After: 1');
    expect(c.data.endsWith('\r\n\r\n5\r\nkept?\r\n0\r\n\r\n')).toBe(true);
  });

  it('cuts a slow head with 408 and an idle keep-alive connection at their timeouts', async () => {
    const srv = await start({ headersTimeout: 300, keepaliveTimeout: 300 });
    const slow = new Conn(srv.port);
    const t0 = performance.now();
    slow.send('GET / HTTP/1.1\r\n');
    await slow.closed;
    expect(performance.now() - t0).toBeGreaterThanOrEqual(250);
    expect(slow.data).toMatch(/^HTTP\/1\.1 408 /);
    expect(srv.logs.some((l) => (l.msg ?? '').includes('request head not received within 300 ms'))).toBe(
      true,
    );

    const idle = new Conn(srv.port);
    idle.send('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await idle.until((d) => d.includes('ok /'));
    const t1 = performance.now();
    await idle.closed;
    expect(performance.now() - t1).toBeGreaterThanOrEqual(250);
    expect(count(idle.data, 'HTTP/1.1')).toBe(1);
  });

  it('lets a request outlast the head timeout, then still closes the idle connection', async () => {
    // The head timer stays parked while a request is served and is restarted for the idle wait.
    const srv = await start({ headersTimeout: 200, keepaliveTimeout: 200 });
    const before = slowSeen.length;
    const c = new Conn(srv.port);
    c.send('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n');
    while (slowSeen.length === before) await new Promise((r) => setImmediate(r));
    // A head cut at the same timeout on another connection: by then the served one's timer is due too.
    const probe = new Conn(srv.port);
    probe.send('GET / HTTP/1.1\r\n');
    await probe.closed;
    expect(probe.data).toMatch(/^HTTP\/1\.1 408 /);
    expect(c.socket.destroyed).toBe(false);
    srv.release();
    await c.until((d) => d.includes('ok /slow'));
    const t0 = performance.now();
    await c.closed;
    expect(performance.now() - t0).toBeGreaterThanOrEqual(150);
    expect(count(c.data, 'HTTP/1.1 200 OK')).toBe(1);
  });

  it('writes the current second in Date, moving on with the clock', async () => {
    const { port } = await start();
    const c = new Conn(port);
    const dates: string[] = [];
    const ask = async (): Promise<string> => {
      const n = dates.length + 1;
      c.send('GET /d HTTP/1.1\r\nHost: x\r\n\r\n');
      const d = await c.until((d) => count(d, 'ok /d') === n);
      const all = [...d.matchAll(/\r\nDate: ([^\r]+)\r\n/g)];
      dates.push(all[all.length - 1]![1]!);
      return dates[dates.length - 1]!;
    };
    const first = await ask();
    expect(Math.abs(Date.parse(first) - Date.now())).toBeLessThan(2000);
    // The cached value is dropped at the next second: ask until it changes (bounded by the test timeout).
    while ((await ask()) === first) await new Promise((r) => setTimeout(r, 20));
    const last = dates[dates.length - 1]!;
    expect(Date.parse(last)).toBeGreaterThan(Date.parse(first));
    expect(Math.abs(Date.parse(last) - Date.now())).toBeLessThan(2000);
  });

  it('writes no body for HEAD and 204, keeping the connection usable', async () => {
    const { port } = await start();
    const c = new Conn(port);
    c.send(
      'HEAD /h HTTP/1.1\r\nHost: x\r\n\r\nGET /nocontent HTTP/1.1\r\nHost: x\r\n\r\nGET /after HTTP/1.1\r\nHost: x\r\n\r\n',
    );
    const d = await c.until((d) => d.includes('ok /after'));
    expect(d).not.toContain('ok /h');
    expect(d).toContain('HTTP/1.1 204 No Content');
    expect(count(d, 'HTTP/1.1 ')).toBe(3);
  });

  it('hands an upgraded socket and the bytes after the head to the app', async () => {
    const { port } = await start();
    const c = new Conn(port);
    c.send('GET /upgrade HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: test\r\n\r\nearly');
    await c.until((d) => d.includes('head=early;'));
    c.send('later');
    const d = await c.until((d) => d.includes('got=later;'));
    expect(d).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
  });

  it('writes an HTTP/2 origin response as HTTP/1.1', async () => {
    const { port } = await start();
    const c = new Conn(port);
    c.send('GET /h2resp HTTP/1.1\r\nHost: x\r\n\r\n');
    const d = await c.until((d) => d.endsWith('7\r\nh2 body\r\n0\r\n\r\n'));
    expect(d).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(d).toContain('x-from: h2\r\n');
  });

  it('stops reading the socket while the app holds the request body', async () => {
    const { port } = await start();
    const c = new Conn(port);
    const total = 16 * 1024 * 1024;
    c.send(`POST /held HTTP/1.1\r\nHost: x\r\nContent-Length: ${total}\r\n\r\n`);
    c.socket.write(Buffer.alloc(total, 0x62));
    // Wait (bounded) until the client's unsent bytes stop shrinking: the server has stopped reading.
    let last = -1;
    let stable = 0;
    for (let i = 0; i < 1000 && stable < 20; i++) {
      await new Promise((r) => setTimeout(r, 5));
      const now = c.socket.writableLength;
      stable = now === last && heldSessions.length > 0 ? stable + 1 : 0;
      last = now;
    }
    const held = heldSessions.pop()!;
    // Most of the body is still the client's: the server buffered at most what a few reads hold.
    expect(c.socket.writableLength).toBeGreaterThan(total / 2);
    expect(held.bodyBytesRead).toBeLessThan(1024 * 1024);
    held.resumeRequestBody();
    const onChunk = () => held.resumeRequestBody();
    const t = setInterval(onChunk, 1);
    try {
      const d = await c.until((d) => d.includes(`read ${total}`));
      expect(d).toMatch(/^HTTP\/1\.1 200 /);
    } finally {
      clearInterval(t);
    }
  });

  it('graceful shutdown: a busy connection gets Connection: close, an idle one is closed', async () => {
    const srv = await start();
    const idle = new Conn(srv.port);
    idle.send('GET /i HTTP/1.1\r\nHost: x\r\n\r\n');
    await idle.until((d) => d.includes('ok /i'));
    const busy = new Conn(srv.port);
    slowSeen.length = 0;
    busy.send('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n');
    for (let i = 0; i < 10_000 && slowSeen.length === 0; i++) await new Promise((r) => setTimeout(r, 1));
    expect(slowSeen.length).toBe(1);
    const stopped = srv.svc.stop(true, 30_000);
    srv.release();
    await busy.closed;
    expect(busy.data).toContain('ok /slow');
    expect(busy.data).toContain('Connection: close');
    await idle.closed;
    expect(idle.data.split('HTTP/1.1 ').length - 1).toBe(1);
    await stopped;
  });

  it('drops an unread request body and serves the request pipelined after it', async () => {
    const { port } = await start();
    const c = new Conn(port);
    c.send(
      'POST /noread HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloGET /next HTTP/1.1\r\nHost: x\r\n\r\n',
    );
    const d = await c.until((d) => d.includes('ok /next'));
    expect(d).toMatch(/^HTTP\/1\.1 403 /);
    expect(count(d, 'HTTP/1.1 ')).toBe(2);
  });

  it('closes after answering an HTTP/1.0 request without keep-alive', async () => {
    const { port } = await start();
    const c = new Conn(port);
    c.send('GET /old HTTP/1.0\r\n\r\n');
    await c.closed;
    expect(c.data).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(c.data).toContain('Connection: close');
    expect(c.data).toContain('ok /old');
  });

  it('serves HTTP/1.1 after the h2c sniff on the same port, and HTTP/2 beside it', async () => {
    const { port } = await start({ h2c: true });
    const c = new Conn(port);
    c.send('GET /after-sniff HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(await c.until((d) => d.includes('ok /after-sniff'))).toMatch(/^HTTP\/1\.1 200 /);
    const h2 = http2.connect(`http://127.0.0.1:${port}`);
    h2.on('error', () => {});
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const req = h2.request({ ':path': '/h2' });
        req.on('response', (h) => resolve(Number(h[':status'])));
        req.on('error', reject);
        req.resume();
      });
      expect(status).toBe(200);
    } finally {
      h2.destroy();
    }
  });
});
