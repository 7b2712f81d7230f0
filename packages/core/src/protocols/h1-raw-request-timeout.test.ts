/**
 * The raw HTTP/1.x engine over real sockets: `requestTimeout` (the whole request, body included,
 * within the limit, counted from the connection's start and then from each request's first byte;
 * 408 and a log line while no response has started, a bare close after), and the single
 * `Connection: close` field of an upgrade request's non-101 answer.
 */
import { ResponseHeader } from '@pingora-ts/http';
import { describe, expect, it } from 'vitest';
import {
  type LogEntry,
  memoryLogger,
  NODE_ENGINE_FORCED,
  startedService,
  tcpPort,
} from '../../test/helpers.js';
import { closedAfterEach, within } from '../../test/recording-conn.js';
import { HttpServer, type HttpServerOptions } from '../apps/http-app.js';
import type { HttpServerSession } from './server-session.js';

const { services, conns } = closedAfterEach();

// /read reads the whole body, then answers; /early writes its head and a first chunk before reading
// anything and never finishes; /refuse-upgrade answers an upgrade request with 400 and its own
// `Connection: upgrade`. Everything else: 200 "ok".
async function handle(session: HttpServerSession): Promise<void> {
  const path = session.reqHeader().uri;
  if (path === '/read') {
    while ((await session.readRequestBody()) !== undefined);
    return session.respondErrorWithBody(200, 'read');
  }
  if (path === '/early') {
    session.writeResponseHeader(ResponseHeader.build(200));
    session.writeResponseBody(Buffer.from('partial'), false);
    return;
  }
  if (path === '/refuse-upgrade') {
    const resp = ResponseHeader.build(400);
    resp.insertHeader('Connection', 'upgrade');
    resp.insertHeader('X-After', '1');
    session.writeResponseHeader(resp, true);
    return;
  }
  session.respondErrorWithBody(200, 'ok');
}

async function start(options: HttpServerOptions, logs: LogEntry[] = []): Promise<number> {
  const app = new HttpServer(
    { processNewHttp: handle },
    { logger: memoryLogger(logs), h1Engine: 'pingora', ...options },
  );
  return tcpPort(await startedService('raw-timeout', [], services, app, (s) => s.addTcp('127.0.0.1:0')));
}

const SLOW_POST = 'POST /read HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n';

describe.skipIf(NODE_ENGINE_FORCED)('raw engine requestTimeout', () => {
  it('cuts a trickled body with 408 and a log line at the configured time', { timeout: 20_000 }, async () => {
    const logs: LogEntry[] = [];
    // The head arrives at once and each body byte restarts the read timeout: only requestTimeout
    // can cut this request (node:http wants headersTimeout no larger than it).
    const port = await start({ requestTimeout: 400, headersTimeout: 400, readTimeout: 60_000 }, logs);
    const t0 = performance.now();
    const c = conns.connect(port);
    c.socket.write(SLOW_POST);
    c.trickle(50);
    await within(c.closed, 10_000, 'slow request cut');
    const elapsed = c.closedAt! - t0;
    expect(elapsed).toBeGreaterThanOrEqual(400);
    expect(c.data).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(c.data).toContain('Connection: close');
    const line = logs.find((e) => e.level === 'warn' && e.obj.requestTimeout === 400);
    expect(line?.msg).toBe('request not received within 400 ms; connection closed');
    expect(line?.obj.status).toBe(408);
  });

  it('counts a later request from its first byte, not from the connection start', {
    timeout: 20_000,
  }, async () => {
    const port = await start({ requestTimeout: 400, headersTimeout: 400, keepaliveTimeout: 60_000 });
    const early = conns.connect(port);
    early.socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await early.until('\r\n\r\nok');
    // A request cut on another connection, opened now, marks that more than requestTimeout went by.
    const slow = conns.connect(port);
    slow.socket.write(SLOW_POST);
    slow.trickle(50);
    await within(slow.closed, 10_000, 'slow request cut');
    expect(slow.data).toMatch(/^HTTP\/1\.1 408 /);
    // The idle connection was not cut, and its next request gets a fresh clock.
    expect(early.closedAt).toBeUndefined();
    const t0 = performance.now();
    early.socket.write(SLOW_POST);
    early.trickle(50);
    await within(early.closed, 10_000, 'second request cut');
    expect(early.closedAt! - t0).toBeGreaterThanOrEqual(400);
    expect(early.data).toMatch(/\r\n\r\nokHTTP\/1\.1 408 Request Timeout\r\n/);
  });

  it('only closes once the response has started', { timeout: 20_000 }, async () => {
    const logs: LogEntry[] = [];
    const port = await start({ requestTimeout: 300, headersTimeout: 300 }, logs);
    const t0 = performance.now();
    const c = conns.connect(port);
    c.socket.write('POST /early HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nab');
    await c.until('partial');
    await within(c.closed, 10_000, 'request cut');
    expect(c.closedAt! - t0).toBeGreaterThanOrEqual(300);
    expect(c.data).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(c.data).not.toContain('408');
    const line = logs.find((e) => e.obj.requestTimeout === 300);
    expect(line?.level).toBe('warn');
    expect(line?.obj.status).toBeUndefined();
  });

  it('answers a slow head once when both timeouts fall due together', { timeout: 20_000 }, async () => {
    const logs: LogEntry[] = [];
    const port = await start({ requestTimeout: 300, headersTimeout: 300 }, logs);
    const c = conns.connect(port);
    c.socket.write('GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    c.trickle(50);
    await within(c.closed, 10_000, 'slow head cut');
    expect(c.data).toMatch(/^HTTP\/1\.1 408 /);
    expect(c.data.split('HTTP/1.1 ').length - 1).toBe(1);
    expect(logs.filter((e) => / not received within 300 ms/.test(e.msg ?? '')).length).toBe(1);
  });

  it('leaves a request that arrived in time alone', { timeout: 20_000 }, async () => {
    const port = await start({ requestTimeout: 5_000, headersTimeout: 5_000 });
    const c = conns.connect(port);
    c.socket.write(`${SLOW_POST.replace('1000', '3')}abc`);
    expect(await c.until('\r\n\r\nread')).toMatch(/^HTTP\/1\.1 200 /);
    expect(c.closedAt).toBeUndefined();
  });
});

describe.skipIf(NODE_ENGINE_FORCED)('raw engine upgrade refusal', () => {
  it("replaces the app's Connection field with a single Connection: close", async () => {
    const port = await start({});
    const c = conns.connect(port);
    c.socket.write('GET /refuse-upgrade HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: test\r\n\r\n');
    await within(c.closed, 10_000, 'refused upgrade closed');
    const head = c.data.slice(0, c.data.indexOf('\r\n\r\n'));
    expect(head).toMatch(/^HTTP\/1\.1 400 /);
    expect(head.match(/^connection:/gim)).toEqual(['Connection:']);
    expect(head).toContain('\r\nConnection: close');
    expect(head).toContain('\r\nX-After: 1');
  });
});
