/**
 * The raw HTTP/1.x engine's lingering close over real sockets: a connection that closes while the
 * client is still sending (an early answer to an upload, a refused request, a request timeout)
 * shuts its write side and drops what arrives until the client closes, so the client reads the
 * whole answer and a clean end instead of a reset; `lingeringTimeout` and `lingeringTime` bound
 * how long that lasts, and a graceful shutdown does not wait for it.
 */
import { ResponseHeader } from '@pingora-ts/http';
import { waitFor } from '@pingora-ts/test-utils';
import { describe, expect, it } from 'vitest';
import { memoryLogger, NODE_ENGINE_FORCED, startedService, tcpPort } from '../../test/helpers.js';
import { closedAfterEach, type RecordingConn, within } from '../../test/recording-conn.js';
import { HttpServer, type HttpServerOptions } from '../apps/http-app.js';
import type { Service } from '../services/listening.js';
import type { HttpServerSession } from './server-session.js';

const { services, conns } = closedAfterEach();

// /early answers 413 at once, without reading the body, and asks for the connection to close
// when the body is not all in; /early-then-read does the same, then reads the body, recording in
// `lateRead` how that ends; /read reads the body, then answers.
let lateRead: Promise<string> | undefined;
async function handle(session: HttpServerSession): Promise<void> {
  const uri = session.reqHeader().uri;
  if (uri === '/early' || uri === '/early-then-read') {
    session.setCloseOnResponseBeforeDownstreamFinish(true);
    session.writeResponseHeader(ResponseHeader.build(413), true);
    if (uri === '/early-then-read') {
      lateRead = (async () => {
        while ((await session.readRequestBody()) !== undefined);
        return 'ended';
      })().catch((e: Error) => `failed: ${e.message}`);
    }
    return;
  }
  while ((await session.readRequestBody()) !== undefined);
  session.respondErrorWithBody(200, 'read');
}

async function start(options: HttpServerOptions): Promise<{ port: number; app: HttpServer; svc: Service }> {
  const app = new HttpServer(
    { processNewHttp: handle },
    { logger: memoryLogger(), h1Engine: 'pingora', ...options },
  );
  const svc = await startedService('raw-linger', [], services, app, (s) => s.addTcp('127.0.0.1:0'));
  return { port: tcpPort(svc), app, svc: svc as unknown as Service };
}

/**
 * A half-open client that read its answer and the server's end sends `more` and then closes: the
 * lingering server drops the bytes without a reset and closes its side too.
 */
async function sendMoreThenClose(c: RecordingConn, app: HttpServer, more: string): Promise<void> {
  await new Promise<void>((resolve, reject) =>
    c.socket.write(more, (e) => (e == null ? resolve() : reject(e))),
  );
  c.socket.end();
  await within(c.closed, 10_000, 'connection closed');
  expect(c.error).toBeUndefined();
  await serverClosed(app, 'server side closed');
}

/** Waits until the server holds no connection. */
function serverClosed(app: HttpServer, message: string): Promise<void> {
  return waitFor(() => app.raw?.size === 0, { timeout: 10_000, message });
}

// Far more than the socket buffers hold: the server is still receiving it when it answers.
const UPLOAD = Buffer.alloc(4 * 1024 * 1024, 'u');
const SLOW_POST = 'POST /read HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n';

describe.skipIf(NODE_ENGINE_FORCED)('raw engine lingering close', () => {
  it('lets a client still uploading read an early answer and a clean end', { timeout: 30_000 }, async () => {
    const { port } = await start({});
    const c = conns.connect(port);
    c.socket.write(`POST /early HTTP/1.1\r\nHost: x\r\nContent-Length: ${UPLOAD.length}\r\n\r\n`);
    c.socket.write(UPLOAD);
    await within(c.closed, 20_000, 'connection closed');
    expect(c.data).toMatch(/^HTTP\/1\.1 413 /);
    expect(c.data).toContain('\r\nConnection: close\r\n');
    // Closing with the upload unread would have reset the connection.
    expect(c.error).toBeUndefined();
    expect(c.ended).toBe(true);
  });

  it('tells a reader still waiting for the body at once, not when the linger ends', {
    timeout: 30_000,
  }, async () => {
    lateRead = undefined;
    const { port } = await start({ lingeringTimeout: 60_000, lingeringTime: 60_000 });
    const c = conns.connect(port, { allowHalfOpen: true });
    c.socket.write('POST /early-then-read HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc');
    await within(c.untilEnded(), 10_000, '413 and the end of the stream');
    expect(c.data).toMatch(/^HTTP\/1\.1 413 /);
    // The app started its read before writing the 413. The connection lingers for a minute; the
    // read must not wait for that.
    expect(lateRead).toBeDefined();
    expect(await within(lateRead!, 10_000, 'late read')).toMatch(/^failed: /);
  });

  it('lets a client still sending read a refusal and a clean end', { timeout: 30_000 }, async () => {
    const { port } = await start({});
    const c = conns.connect(port);
    // A bad chunk size: refused with 400 while megabytes of the body are still on their way.
    c.socket.write('POST /read HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n');
    c.socket.write(UPLOAD);
    await within(c.closed, 20_000, 'connection closed');
    expect(c.data).toMatch(/^HTTP\/1\.1 400 /);
    expect(c.error).toBeUndefined();
    expect(c.ended).toBe(true);
  });

  it('keeps reading after a 408 until the client closes', { timeout: 30_000 }, async () => {
    const { port, app } = await start({ requestTimeout: 300, headersTimeout: 300 });
    // A half-open client: it reads the answer and the server's end, and goes on sending.
    const c = conns.connect(port, { allowHalfOpen: true });
    c.socket.write(SLOW_POST);
    await within(c.untilEnded(), 10_000, '408 and the end of the stream');
    expect(c.data).toMatch(/^HTTP\/1\.1 408 /);
    expect(app.raw?.size).toBe(1);
    await sendMoreThenClose(c, app, 'more body');
  });

  it('lingers after a last response with requests pipelined behind it', { timeout: 30_000 }, async () => {
    const { port, app } = await start({});
    const c = conns.connect(port, { allowHalfOpen: true });
    c.socket.write(
      'POST /read HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 1\r\n\r\nb' +
        'GET /never HTTP/1.1\r\nHost: x\r\n\r\n',
    );
    await within(c.untilEnded(), 10_000, 'the answer and the end of the stream');
    expect(c.data).toMatch(/^HTTP\/1\.1 200 [\s\S]*\r\n\r\nread$/);
    // Still open on the server's side, dropping what the client sends, until the client closes.
    expect(app.raw?.size).toBe(1);
    await sendMoreThenClose(c, app, 'GET /more HTTP/1.1\r\n');
  });

  it('closes after lingeringTimeout without a byte', { timeout: 30_000 }, async () => {
    const { port, app } = await start({ requestTimeout: 200, headersTimeout: 200, lingeringTimeout: 300 });
    const t0 = performance.now();
    const c = conns.connect(port, { allowHalfOpen: true });
    c.socket.write(SLOW_POST);
    await within(c.untilEnded(), 10_000, '408 and the end of the stream');
    expect(c.data).toMatch(/^HTTP\/1\.1 408 /);
    // The half-open client never closes: the server's own close ends this.
    await serverClosed(app, 'linger ended');
    // The request timeout, then the whole silent linger.
    expect(performance.now() - t0).toBeGreaterThanOrEqual(500);
  });

  it('closes after lingeringTime even while the client keeps sending', { timeout: 30_000 }, async () => {
    const { port } = await start({
      requestTimeout: 200,
      headersTimeout: 200,
      lingeringTimeout: 60_000,
      lingeringTime: 400,
    });
    const t0 = performance.now();
    const c = conns.connect(port, { allowHalfOpen: true });
    c.socket.write(SLOW_POST);
    c.trickle(20);
    await within(c.closed, 10_000, 'linger cut');
    expect(c.closedAt! - t0).toBeGreaterThanOrEqual(600);
    expect(c.data).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('closes at once with lingeringTimeout 0', { timeout: 30_000 }, async () => {
    const { port, app } = await start({ requestTimeout: 200, headersTimeout: 200, lingeringTimeout: 0 });
    const c = conns.connect(port, { allowHalfOpen: true });
    c.socket.write(SLOW_POST);
    await within(c.untilEnded(), 10_000, '408 and the end of the stream');
    // The half-open client never closes: only the server's own close ends this.
    await serverClosed(app, 'server side closed');
  });

  it('does not hold a graceful shutdown back', { timeout: 60_000 }, async () => {
    const { port, app, svc } = await start({
      requestTimeout: 200,
      headersTimeout: 200,
      lingeringTimeout: 60_000,
      lingeringTime: 60_000,
    });
    const c = conns.connect(port, { allowHalfOpen: true });
    c.socket.write(SLOW_POST);
    await within(c.untilEnded(), 10_000, '408 and the end of the stream');
    services.splice(services.indexOf(svc), 1);
    // Graceful with a 30 s grace period, the minute-long linger still running on the half-open
    // connection: the sweep closes it (in about a second) instead of waiting out the grace period.
    const t0 = performance.now();
    await within(svc.stop(true, 30_000), 40_000, 'graceful stop');
    expect(performance.now() - t0).toBeLessThan(15_000);
    expect(app.raw?.size).toBe(0);
    expect(c.data).toMatch(/^HTTP\/1\.1 408 /);
  });
});
