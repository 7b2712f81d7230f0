/**
 * `headersTimeout` over real sockets: a slow request head is cut with 408 at the configured time
 * (node:http alone only checks every 30 s), keep-alive connections idle between requests are left
 * to the keep-alive timeout, and a slowloris crowd is cut while normal clients are served. Run on
 * both HTTP/1.x engines (`PINGORA_TS_H1_ENGINE`, when set, picks one for both runs).
 */
import { once } from 'node:events';
import http from 'node:http';
import http2 from 'node:http2';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type LogEntry, memoryLogger } from '../../test/helpers.js';
import { closedAfterEach, RecordingConn, within } from '../../test/recording-conn.js';
import { ShutdownController } from '../server/shutdown.js';
import { Service } from '../services/listening.js';
import { HttpServer, type HttpServerOptions } from './http-app.js';
import { serveHttpApp } from './serve-http.js';

const { services, conns } = closedAfterEach();
const intervals: NodeJS.Timeout[] = [];
// Registered after the shared hook, so it runs before it: the trickles stop, then the sockets close.
afterEach(() => {
  for (const t of intervals.splice(0)) clearInterval(t);
});

let engine: HttpServerOptions['h1Engine'];

async function start(options: HttpServerOptions, entries: LogEntry[] = []): Promise<number> {
  const app = new HttpServer(serveHttpApp({ response: () => ({ status: 200, body: 'ok' }) }), {
    logger: memoryLogger(entries),
    h1Engine: engine,
    ...options,
  });
  const svc = new Service('headers-timeout', app, {
    logger: memoryLogger(),
    bindRetry: { retries: 0, delayMs: 0 },
  });
  svc.addTcp('127.0.0.1:0');
  await svc.start(new ShutdownController().watch);
  services.push(svc);
  const a = svc.addresses()[0];
  if (a?.kind !== 'tcp') throw new Error('not listening on TCP');
  return a.port;
}

/** A recorded client connection that can also send a request and wait for its answer. */
class Conn extends RecordingConn {
  constructor(port: number) {
    super(port);
    conns.track(this);
  }

  /** Writes `text` and waits until the data received since ends a response whose body is `expectBody`. */
  async request(text: string, expectBody = 'ok'): Promise<string> {
    const before = this.data.length;
    this.socket.write(text);
    await this.until((d) => d.length > before && d.endsWith(`\r\n\r\n${expectBody}`));
    return this.data.slice(before);
  }
}

const SLOW_HEAD = 'GET /slow HTTP/1.1\r\nHost: x\r\nX-Slow: ';
const GET = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n';

describe.each(['pingora', 'node'] as const)('headersTimeout (h1Engine %s)', (h1Engine) => {
  beforeEach(() => {
    engine = h1Engine;
  });

  // node's own check would cut this head only after its 30 s sweep: far past the test's timeout.
  it('cuts a trickled head with 408 at the configured time', { timeout: 20_000 }, async () => {
    const entries: LogEntry[] = [];
    const port = await start({ headersTimeout: 300 }, entries);
    const t0 = performance.now();
    const c = new Conn(port);
    await once(c.socket, 'connect');
    c.socket.write(SLOW_HEAD);
    c.trickle(100);
    await within(c.closed, 10_000, 'slow head cut');
    const elapsed = c.closedAt! - t0;
    console.log(`headersTimeout 300 ms: cut after ${elapsed.toFixed(0)} ms`);
    expect(elapsed).toBeGreaterThanOrEqual(300);
    expect(c.data).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    const line = entries.find((e) => e.level === 'warn' && e.obj.status === 408);
    expect(line?.msg).toMatch(/request head not received within 300 ms/);
  });

  it('counts a later head on a keep-alive connection from its first byte', { timeout: 20_000 }, async () => {
    const port = await start({ headersTimeout: 300 });
    const c = new Conn(port);
    expect(await c.request(GET)).toMatch(/^HTTP\/1\.1 200 /);
    const t0 = performance.now();
    c.socket.write(SLOW_HEAD);
    c.trickle(100);
    await within(c.closed, 10_000, 'second head cut');
    expect(c.closedAt! - t0).toBeGreaterThanOrEqual(300);
    expect(c.data).toMatch(/\r\n\r\nokHTTP\/1\.1 408 Request Timeout\r\n/);
  });

  it('leaves idle keep-alive connections to the keep-alive timeout', { timeout: 20_000 }, async () => {
    const port = await start({ headersTimeout: 300, keepaliveTimeout: 60_000 });
    const idle = new Conn(port);
    expect(await idle.request(GET)).toMatch(/^HTTP\/1\.1 200 /);
    // Node answers an unknown expectation itself unless asked; that head is complete too.
    const expect417 = new Conn(port);
    expect(await expect417.request('GET / HTTP/1.1\r\nHost: x\r\nExpect: x-y\r\n\r\n', '')).toMatch(
      /^HTTP\/1\.1 417 /,
    );
    // A head cut on another connection marks that more than headersTimeout went by.
    const slow = new Conn(port);
    slow.socket.write(SLOW_HEAD);
    await within(slow.closed, 10_000, 'slow head cut');
    expect(slow.data).toMatch(/^HTTP\/1\.1 408 /);
    expect(idle.closedAt).toBeUndefined();
    expect(expect417.closedAt).toBeUndefined();
    expect(await idle.request(GET)).toMatch(/^HTTP\/1\.1 200 /);
    expect(await expect417.request(GET)).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('cuts a connection that sends nothing', { timeout: 20_000 }, async () => {
    const port = await start({ headersTimeout: 300 });
    const t0 = performance.now();
    const c = new Conn(port);
    await within(c.closed, 10_000, 'silent connection cut');
    expect(c.closedAt! - t0).toBeGreaterThanOrEqual(300);
    expect(c.data).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('times HTTP/1 heads with h2c on, and never an HTTP/2 connection', { timeout: 20_000 }, async () => {
    const port = await start({ h2c: true, headersTimeout: 300 });
    const h2 = http2.connect(`http://127.0.0.1:${port}`);
    h2.on('error', () => {});
    const h2Closed = once(h2, 'close');
    const get = () =>
      new Promise<number>((resolve, reject) => {
        const req = h2.request({ ':path': '/' });
        req.on('response', (h) => resolve(Number(h[':status'])));
        req.on('error', reject);
        req.resume();
      });
    expect(await get()).toBe(200);
    const t0 = performance.now();
    const slow = new Conn(port);
    slow.socket.write(SLOW_HEAD);
    slow.trickle(100);
    await within(slow.closed, 10_000, 'slow head cut');
    expect(slow.closedAt! - t0).toBeGreaterThanOrEqual(300);
    expect(slow.data).toMatch(/^HTTP\/1\.1 408 /);
    expect(h2.closed).toBe(false);
    expect(await get()).toBe(200);
    h2.close();
    await h2Closed;
  });

  it('cuts a slowloris crowd while normal clients are served', { timeout: 20_000 }, async () => {
    const port = await start({ headersTimeout: 500 });
    const slow: Conn[] = [];
    for (let i = 0; i < 200; i++) slow.push(new Conn(port));
    await Promise.all(slow.map((c) => once(c.socket, 'connect')));
    for (const c of slow) c.socket.write(SLOW_HEAD);
    // One interval for the crowd: a byte per connection every 100 ms.
    const t = setInterval(() => {
      for (const c of slow) if (c.socket.writable) c.socket.write('a');
    }, 100);
    intervals.push(t);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    const statuses = await Promise.all(
      Array.from(
        { length: 100 },
        () =>
          new Promise<number>((resolve, reject) => {
            http
              .get({ port, host: '127.0.0.1', path: '/', agent }, (res) => {
                res.resume();
                res.on('end', () => resolve(res.statusCode ?? 0));
              })
              .on('error', reject);
          }),
      ),
    );
    agent.destroy();
    expect(statuses.every((s) => s === 200)).toBe(true);
    await within(Promise.all(slow.map((c) => c.closed)), 10_000, 'slowloris connections cut');
    expect(slow.every((c) => c.data.startsWith('HTTP/1.1 408 '))).toBe(true);
  });
});
