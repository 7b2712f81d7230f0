/**
 * Per-request downstream controls through the proxy's `Session` (write timeout, minimum send rate,
 * closing or draining on an early response), the one request-body reader (a filter reading through
 * `session.downstream` cannot leave the upstream waiting), and the read timeout of an upgrade
 * request's body. Real sockets on loopback.
 */
import http2 from 'node:http2';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { ProxyHttp } from './proxy-http.js';
import { h2connect, startH2cProxy } from '../test/h2.js';
import { closeAll, startOrigin, startProxy, startRawOrigin, waitFor } from '../test/helpers.js';

afterEach(closeAll);

const CHUNK = Buffer.alloc(64 * 1024, 0x61);

/** An origin streaming `chunks` × 64 KiB with backpressure; `done()` once its response closed. */
async function bigOrigin(chunks: number) {
  let done = false;
  const origin = await startOrigin((_req, res) => {
    res.writeHead(200, { 'Content-Length': String(chunks * CHUNK.length) });
    let n = 0;
    const pump = () => {
      while (n++ < chunks) if (!res.write(CHUNK)) return void res.once('drain', pump);
      res.end();
    };
    res.on('close', () => (done = true));
    pump();
  });
  return { origin, done: () => done };
}

/** A raw client: what it received, whether the connection closed. */
function rawClient(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  const c = { socket, data: '', closed: false };
  socket.setEncoding('latin1');
  socket.on('data', (d: string) => (c.data += d));
  socket.on('close', () => (c.closed = true));
  return c;
}

describe('downstream write controls', () => {
  it('setWriteTimeout cuts a client that stops reading; logged as a downstream WriteTimedout, 499', async () => {
    const { origin, done } = await bigOrigin(2000);
    const p = await startProxy(
      {
        requestFilter(session) {
          session.setWriteTimeout(300);
          return false;
        },
        upstreamPeer: () => origin.peer(),
      },
      // No server-wide write timeout: only the per-request one can cut it.
      { serverOptions: { writeTimeout: null } },
    );
    const c = rawClient(p.port);
    c.socket.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    c.socket.pause();
    await waitFor(() => p.logs.some((l) => l.msg.includes('status: 499')), { timeout: 20_000 });
    const line = p.logs.find((l) => l.msg.includes('status: 499'))!;
    expect(line.msg).toContain('WriteTimedout');
    expect(line.msg).toContain('response write blocked for 300 ms');
    // The origin's response is dropped, not left pending.
    await waitFor(done, { timeout: 20_000 });
    c.socket.resume();
    await waitFor(() => c.closed, { timeout: 20_000 });
    expect(c.data.length).toBeLessThan(2000 * CHUNK.length);
  });

  it('setMinSendRate cuts a client that takes nothing; a reading client gets the whole body', async () => {
    const { origin } = await bigOrigin(64);
    const p = await startProxy(
      {
        requestFilter(session) {
          session.setMinSendRate(64 * 1024);
          return false;
        },
        upstreamPeer: () => origin.peer(),
      },
      { serverOptions: { writeTimeout: null } },
    );
    const reader = rawClient(p.port);
    reader.socket.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    await waitFor(() => reader.data.length >= 64 * CHUNK.length, { timeout: 20_000 });
    const stalled = rawClient(p.port);
    stalled.socket.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    stalled.socket.pause();
    await waitFor(() => p.logs.some((l) => l.msg.includes('status: 499')), { timeout: 20_000 });
    expect(p.logs.filter((l) => l.msg.includes('status: 499'))).toHaveLength(1);
    expect(p.logs.find((l) => l.msg.includes('status: 499'))!.msg).toContain('slower than 65536 bytes/s');
    stalled.socket.resume();
    await waitFor(() => stalled.closed, { timeout: 20_000 });
  });
});

describe('downstream write controls (HTTP/2)', () => {
  it('setWriteTimeout resets the stream of a client that stops reading; logged as WriteTimedout, 499', async () => {
    const { origin, done } = await bigOrigin(2000);
    const p = await startH2cProxy({
      requestFilter(session) {
        session.setWriteTimeout(300);
        return false;
      },
      upstreamPeer: () => origin.peer(),
    });
    const client = h2connect(`http://127.0.0.1:${p.port}`);
    const stream = client.request({ ':path': '/' });
    stream.on('error', () => {});
    stream.pause();
    let closed = false;
    stream.on('close', () => (closed = true));
    await waitFor(() => p.logs.some((l) => l.msg.includes('status: 499')), { timeout: 20_000 });
    expect(p.logs.find((l) => l.msg.includes('status: 499'))!.msg).toContain('WriteTimedout');
    await waitFor(done, { timeout: 20_000 });
    stream.resume();
    await waitFor(() => closed, { timeout: 20_000 });
    expect(stream.rstCode).toBe(http2.constants.NGHTTP2_CANCEL);
  });
});

describe('response finished before the request body (HTTP/1.1)', () => {
  // The origin answers as soon as the request head arrives, never reading the body.
  async function earlyOrigin() {
    return startOrigin((req, res) => {
      req.on('error', () => {});
      res.end(req.method === 'POST' ? 'early' : 'next');
    });
  }
  const LEN = 8 * 1024 * 1024;
  const HEAD = `POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: ${LEN}\r\n\r\n`;

  it('by default the rest of the upload is drained and the connection serves the next request', async () => {
    const origin = await earlyOrigin();
    const p = await startProxy({ upstreamPeer: () => origin.peer() });
    const c = rawClient(p.port);
    c.socket.write(HEAD);
    c.socket.write(CHUNK);
    await waitFor(() => c.data.endsWith('early'), { timeout: 20_000 });
    expect(c.data).toMatch(/^HTTP\/1\.1 200 /);
    expect(c.data).not.toMatch(/Connection: close/i);
    for (let sent = CHUNK.length; sent < LEN; sent += CHUNK.length) c.socket.write(CHUNK);
    c.socket.write('GET /next HTTP/1.1\r\nHost: a\r\n\r\n');
    await waitFor(() => c.data.endsWith('next'), { timeout: 20_000 });
    expect(c.closed).toBe(false);
  });

  it('with setCloseOnResponseBeforeDownstreamFinish(true) the response says Connection: close and the connection closes', async () => {
    const origin = await earlyOrigin();
    const p = await startProxy({
      requestFilter(session) {
        session.setCloseOnResponseBeforeDownstreamFinish(true);
        return false;
      },
      upstreamPeer: () => origin.peer(),
    });
    const c = rawClient(p.port);
    c.socket.write(HEAD);
    c.socket.write(CHUNK);
    await waitFor(() => c.closed, { timeout: 20_000 });
    expect(c.data).toMatch(/^HTTP\/1\.1 200 /);
    expect(c.data).toMatch(/\r\nConnection: close\r\n/i);
    expect(c.data.endsWith('early')).toBe(true);
  });
});

describe('one request-body reader', () => {
  it('a requestFilter reading a chunk through session.downstream: the rest is forwarded chunked, no hang', async () => {
    let seen: { te: string | undefined; cl: string | undefined; body: string } | undefined;
    const origin = await startOrigin((req, res) => {
      let body = '';
      req.setEncoding('latin1');
      req.on('data', (d: string) => (body += d));
      req.on('end', () => {
        seen = { te: req.headers['transfer-encoding'], cl: req.headers['content-length'], body };
        res.end('stored');
      });
    });
    let firstChunk: string | undefined;
    const inner: ProxyHttp = {
      async requestFilter(session) {
        firstChunk = (await session.downstream.readRequestBody())?.toString('latin1');
        return false;
      },
      upstreamPeer: () => origin.peer(),
    };
    const p = await startProxy(inner);
    const c = rawClient(p.port);
    // The rest of the body is sent only once the filter has its chunk: it cannot be the whole body.
    c.socket.write('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello');
    await waitFor(() => firstChunk !== undefined, { timeout: 20_000 });
    c.socket.write(' world');
    await waitFor(() => c.data.endsWith('stored'), { timeout: 20_000 });
    expect(firstChunk).toBe('hello');
    expect(seen).toEqual({ te: 'chunked', cl: undefined, body: ' world' });
  });
  it('reading the body while an attempt forwards it fails the request at once (500), no hang', async () => {
    const origin = await startOrigin((req, res) => {
      req.resume();
      req.on('end', () => res.end('stored'));
    });
    let readError: unknown;
    const inner: ProxyHttp = {
      async requestBodyFilter(session) {
        try {
          await session.downstream.readRequestBody();
        } catch (e) {
          readError = e;
          throw e;
        }
        return undefined;
      },
      upstreamPeer: () => origin.peer(),
    };
    const p = await startProxy(inner);
    const c = rawClient(p.port);
    c.socket.write('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello');
    await waitFor(() => c.data.includes('\r\n\r\n'), { timeout: 20_000 });
    expect(c.data).toMatch(/^HTTP\/1\.1 500 /);
    expect(String(readError)).toMatch(/being sent upstream/);
    expect(p.logs.some((l) => /requestBodyFilter failed: .*being sent upstream/.test(l.msg))).toBe(true);
  });
});

describe('upgrade request body', () => {
  const UPGRADE =
    'POST /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nContent-Length: 100\r\n\r\n0123456789';

  async function silentOrigin() {
    const seen = { closed: false };
    const origin = await startRawOrigin((s) => {
      s.on('error', () => {});
      s.resume(); // reads the request and never answers
      s.on('close', () => (seen.closed = true));
    });
    return { origin, seen };
  }

  it('a client that stalls mid-body is cut by the server read timeout (408)', async () => {
    const { origin, seen } = await silentOrigin();
    const p = await startProxy(
      { upstreamPeer: () => origin.peer() },
      { serverOptions: { readTimeout: 300 } },
    );
    const c = rawClient(p.port);
    c.socket.write(UPGRADE);
    await waitFor(() => c.closed, { timeout: 20_000 });
    expect(c.data).toMatch(/^HTTP\/1\.1 408 /);
    expect(p.logs.some((l) => l.msg.includes('ReadTimedout'))).toBe(true);
    await waitFor(() => seen.closed, { timeout: 20_000 });
  });

  it('follows a read timeout a phase set for the request', async () => {
    const { origin } = await silentOrigin();
    const p = await startProxy(
      {
        requestFilter(session) {
          session.setReadTimeout(300);
          return false;
        },
        upstreamPeer: () => origin.peer(),
      },
      { serverOptions: { readTimeout: null } },
    );
    const c = rawClient(p.port);
    c.socket.write(UPGRADE);
    await waitFor(() => c.closed, { timeout: 20_000 });
    expect(c.data).toMatch(/^HTTP\/1\.1 408 /);
  });
});
