import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import type net from 'node:net';
import { dirname, join } from 'node:path';
import { addAbortSignal } from 'node:stream';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { ResponseHeader } from '@pingora-ts/http';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DATA,
  END_HEADERS,
  END_STREAM,
  frame,
  GOAWAY,
  HEADERS,
  headerBlock,
  RawH2,
  RST_STREAM,
  rstCode,
} from '../../test/h2-frames.js';
import { waitFor } from '@pingora-ts/test-utils';
import { type LogEntry, memoryLogger, tcpPort } from '../../test/helpers.js';
import { HttpServer, type HttpServerApp, type HttpServerOptions } from '../apps/http-app.js';
import { ShutdownController } from '../server/shutdown.js';
import { Service } from '../services/listening.js';
import { scanRequestFields } from './h2-request-fields.js';
import type { HttpServerSession } from './server-session.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../../../tls-openssl/test/fixtures');
const { NGHTTP2_PROTOCOL_ERROR, NGHTTP2_INTERNAL_ERROR } = http2.constants;

let entries: LogEntry[] = [];
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
  entries = [];
});

/** Reads the whole request body with its trailers through the push API. */
function readAll(
  session: HttpServerSession,
  onChunk: (c: Buffer) => void = () => {},
): Promise<{ body: Buffer; trailers: string[] | undefined }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    session.pumpRequestBody({
      onRequestBody: (c) => {
        chunks.push(c);
        onChunk(c);
      },
      onRequestBodyEnd: (trailers) => resolve({ body: Buffer.concat(chunks), trailers }),
      onRequestBodyError: reject,
    });
    session.resumeRequestBody();
  });
}

const writes = { beforeFirstFull: -1, total: 0 };
/** Streams that reached the '/slow' handler, so tests can act once one is in flight. */
const slowStarted = { count: 0 };
const seen = { evil: [] as Array<string | undefined> };
const uploads: string[] = [];
/** Request body bytes that reached the '/upload' handler, so a test can reset mid-upload. */
const uploaded = { bytes: 0 };

const app: HttpServerApp = {
  async processNewHttp(session) {
    const req = session.reqHeader();
    switch (req.path()) {
      case '/boom':
        throw new Error('boom');
      case '/upload': {
        const outcome = await readAll(session, (c) => (uploaded.bytes += c.length)).then(
          () => 'complete',
          (e: Error) => `error: ${e.message}`,
        );
        uploads.push(outcome);
        return;
      }
      case '/slow':
        slowStarted.count++;
        await new Promise((r) => setTimeout(r, 30));
        session.respondErrorWithBody(200, 'slow done');
        return;
      case '/big': {
        const resp = ResponseHeader.build(200);
        session.writeResponseHeader(resp);
        const chunk = Buffer.alloc(16_384, 0x61);
        writes.beforeFirstFull = -1;
        for (let i = 0; i < 64; i++) {
          writes.total = i + 1;
          if (!session.writeResponseBody(chunk, false)) {
            if (writes.beforeFirstFull < 0) writes.beforeFirstFull = i + 1;
            await new Promise<void>((r) => session.onResponseDrain(r));
          }
        }
        session.writeResponseBody(undefined, true);
        return;
      }
      default: {
        if (req.headers.get('x-evil') !== undefined || req.headers.get('x-injected') !== undefined)
          seen.evil.push('leaked');
        if (req.method === 'POST' && req.headers.get('content-length') === undefined)
          seen.evil.push(undefined);
        const { body, trailers } = await readAll(session);
        const resp = ResponseHeader.build(200);
        resp.insertHeader('x-method', req.method);
        resp.insertHeader('x-host', req.headers.get('host') ?? '');
        resp.insertHeader('x-version', String(session.httpVersion));
        resp.insertHeader('x-req-trailers', JSON.stringify(trailers ?? []));
        session.writeResponseHeader(resp);
        session.writeResponseBody(body, false);
        session.writeResponseTrailers(['x-checksum', String(body.length)]);
      }
    }
  },
};

async function serve(
  options: HttpServerOptions = {},
): Promise<{ port: number; server: HttpServer; svc: Service<HttpServer> }> {
  const server = new HttpServer(app, { logger: memoryLogger(entries), h2c: true, ...options });
  const svc = new Service('h2 test', server, { logger: memoryLogger(entries) });
  svc.addTcp('127.0.0.1:0');
  await svc.start(new ShutdownController().watch);
  cleanups.push(() => svc.stop(false, 0));
  return { port: tcpPort(svc), server, svc };
}

function connect(url: string, options: http2.SecureClientSessionOptions = {}): http2.ClientHttp2Session {
  const s = http2.connect(url, options);
  s.on('error', () => {});
  cleanups.push(() => s.destroy());
  return s;
}

interface H2Result {
  status: number;
  headers: http2.IncomingHttpHeaders;
  body: Buffer;
  trailers: http2.IncomingHttpHeaders | undefined;
}

function h2request(
  session: http2.ClientHttp2Session,
  headers: http2.OutgoingHttpHeaders,
  body?: Buffer | string,
  requestTrailers?: http2.OutgoingHttpHeaders,
): Promise<H2Result> {
  return new Promise((resolve, reject) => {
    const req = session.request(headers, {
      endStream: body === undefined,
      waitForTrailers: requestTrailers !== undefined,
    });
    if (requestTrailers !== undefined) req.on('wantTrailers', () => req.sendTrailers(requestTrailers));
    let head: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders | undefined;
    const chunks: Buffer[] = [];
    req.on('response', (h) => (head = h));
    req.on('trailers', (t) => (trailers = t));
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () =>
      resolve({ status: Number(head[':status']), headers: head, body: Buffer.concat(chunks), trailers }),
    );
    req.on('error', reject);
    if (body !== undefined) req.end(body);
  });
}

describe('downstream HTTP/2 (h2c with prior knowledge)', () => {
  it('serves requests with bodies, request trailers and response trailers', async () => {
    const { port } = await serve();
    const s = connect(`http://127.0.0.1:${port}`);
    const r = await h2request(
      s,
      { ':method': 'POST', ':path': '/echo', ':authority': 'example.test', te: 'trailers' },
      'hello h2',
      { 'x-sum': '42' },
    );
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('hello h2');
    expect(r.headers['x-method']).toBe('POST');
    expect(r.headers['x-host']).toBe('example.test');
    expect(r.headers['x-version']).toBe('2');
    expect(JSON.parse(String(r.headers['x-req-trailers']))).toEqual(['x-sum', '42']);
    expect(r.trailers?.['x-checksum']).toBe('8');
    const get = await h2request(s, { ':path': '/echo', te: 'trailers' });
    expect(get.body.length).toBe(0);
    expect(get.trailers?.['x-checksum']).toBe('0');
  });

  it('keeps serving HTTP/1.1 clients on the same port', async () => {
    const { port } = await serve();
    const r = await new Promise<{ status: number; body: string; version: string }>((resolve, reject) => {
      const req = http.request(
        { port, host: '127.0.0.1', method: 'POST', path: '/echo', agent: false },
        (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () =>
            resolve({ status: res.statusCode!, body, version: String(res.headers['x-version']) }),
          );
        },
      );
      req.on('error', reject);
      req.end('x'.repeat(100_000));
    });
    expect(r.status).toBe(200);
    expect(r.body.length).toBe(100_000);
    expect(r.version).toBe('1');
  });

  it('a failing stream is answered on its own; the connection and other streams go on', async () => {
    const { port } = await serve();
    const s = connect(`http://127.0.0.1:${port}`);
    const slow = h2request(s, { ':path': '/slow' });
    const boom = await h2request(s, { ':path': '/boom' });
    expect(boom.status).toBe(500);
    expect((await slow).body.toString()).toBe('slow done');
    expect((await h2request(s, { ':path': '/echo' })).status).toBe(200);
    expect(entries.some((e) => e.level === 'error' && /HTTP app failed/.test(e.msg ?? ''))).toBe(true);
  });

  it('malformed requests get RST_STREAM(PROTOCOL_ERROR) without harming the connection', async () => {
    seen.evil = [];
    const { port } = await serve();
    const raw = await RawH2.open(port);
    cleanups.push(() => raw.close());
    const base: Array<[string, string]> = [
      [':method', 'POST'],
      [':scheme', 'http'],
      [':path', '/echo'],
      [':authority', 'a'],
    ];
    const bad: Array<Array<[string, string]>> = [
      [...base, ['connection', 'keep-alive']],
      [...base, ['transfer-encoding', 'chunked']],
      [...base, ['te', 'gzip']],
      [...base, ['upgrade', 'websocket']],
    ];
    let id = 1;
    for (const fields of bad) {
      raw.send(frame(HEADERS, END_HEADERS | END_STREAM, id, headerBlock(fields)));
      id += 2;
    }
    // Content-Length says 10, DATA carries 3.
    raw.send(
      frame(HEADERS, END_HEADERS, id, headerBlock([...base, ['content-length', '10']])),
      frame(DATA, END_STREAM, id, Buffer.from('abc')),
    );
    const lastBad = id;
    id += 2;
    // CR/LF inside a value: nghttp2 (as Node sets it up) drops the field, so it never reaches the app.
    raw.send(
      frame(HEADERS, END_HEADERS | END_STREAM, id, headerBlock([...base, ['x-evil', 'a\r\nx-injected: 1']])),
    );
    const evil = id;
    const frames = await raw.until(
      (fs) =>
        fs.filter((f) => f.type === RST_STREAM).length >= 5 &&
        fs.some((f) => f.streamId === evil && f.type === HEADERS),
    );
    const resets = frames.filter((f) => f.type === RST_STREAM);
    expect(resets.map((f) => f.streamId).sort((a, b) => a - b)).toEqual([1, 3, 5, 7, lastBad]);
    for (const r of resets) expect(rstCode(r)).toBe(NGHTTP2_PROTOCOL_ERROR);
    expect(frames.some((f) => f.type === GOAWAY)).toBe(false);
    // The connection is alive, and the dropped field never reached the app.
    expect(seen.evil).toEqual([undefined]);
  });

  it('a client reset mid-upload is a body error, never a complete body', async () => {
    const { port } = await serve();
    const s = connect(`http://127.0.0.1:${port}`);
    const req = s.request({ ':method': 'POST', ':path': '/upload' }, { endStream: false });
    req.on('error', () => {});
    req.write('part of the body');
    // Reset only once the app holds part of the body: a reset that beats the stream's dispatch
    // never reaches the app at all.
    await waitFor(() => uploaded.bytes > 0, { message: 'the first body bytes in the app' });
    // Not req.close(): node would send END_STREAM before the reset.
    addAbortSignal(AbortSignal.abort(), req);
    await waitFor(() => uploads.length > 0, { message: 'the upload handler to finish' });
    expect(uploads).toHaveLength(1);
    expect(uploads[0]).toMatch(/^error: client reset the stream/);
  });

  it('flags connection-specific fields and bad TE in its own scan (second line behind nghttp2)', () => {
    expect(scanRequestFields([':method', 'GET', 'connection', 'close']).malformed).toMatch(/connection/);
    expect(scanRequestFields(['transfer-encoding', 'chunked']).malformed).toMatch(/transfer-encoding/);
    expect(scanRequestFields(['te', 'gzip']).malformed).toMatch(/te/);
    expect(scanRequestFields(['keep-alive', '5']).malformed).toBeDefined();
    expect(scanRequestFields(['proxy-connection', 'x']).malformed).toBeDefined();
    const ok = scanRequestFields([':method', 'GET', 'te', 'trailers', 'expect', '100-continue']);
    expect(ok).toEqual({ malformed: undefined, teTrailers: true, expectContinue: true });
  });

  it('applies flow control: writes report backpressure while the client does not read', async () => {
    const { port } = await serve();
    const s = connect(`http://127.0.0.1:${port}`);
    const req = s.request({ ':path': '/big' });
    req.pause();
    await once(req, 'response');
    // The app stops on the first full write: far less than the 1 MiB body is buffered.
    await waitFor(() => writes.beforeFirstFull > 0, { message: 'the first full write' });
    expect(writes.beforeFirstFull).toBeGreaterThan(0);
    expect(writes.beforeFirstFull).toBeLessThan(16);
    let received = 0;
    req.on('data', (c: Buffer) => (received += c.length));
    req.resume();
    await once(req, 'end');
    expect(received).toBe(64 * 16_384);
    expect(writes.total).toBe(64);
  });

  it('graceful shutdown sends GOAWAY and lets open streams finish', async () => {
    const { port, server } = await serve();
    const s = connect(`http://127.0.0.1:${port}`);
    await h2request(s, { ':path': '/echo' });
    const before = slowStarted.count;
    const slow = h2request(s, { ':path': '/slow' });
    // Shut down only once the stream is in the app: GOAWAY must let it finish, not refuse it.
    await waitFor(() => slowStarted.count > before);
    const goaway = once(s, 'goaway');
    server.onShutdown(true);
    const [code] = (await goaway) as [number];
    expect(code).toBe(http2.constants.NGHTTP2_NO_ERROR);
    expect((await slow).body.toString()).toBe('slow done');
    await once(s, 'close');
    await waitFor(() => server.h2.size === 0);
  });

  it('fast shutdown destroys HTTP/2 connections at once', async () => {
    const { port, server } = await serve();
    const s = connect(`http://127.0.0.1:${port}`);
    await h2request(s, { ':path': '/echo' });
    const before = slowStarted.count;
    const slow = h2request(s, { ':path': '/slow' }).catch((e: Error) => e);
    await waitFor(() => slowStarted.count > before);
    server.onShutdown(false);
    await once(s, 'close');
    const r = await slow;
    // No response: the stream fails or ends empty, depending on how the client sees the reset.
    expect(r instanceof Error || r.status !== 200).toBe(true);
    await waitFor(() => server.h2.size === 0);
  });

  it('aborting a session resets only its stream', async () => {
    const aborting: HttpServerApp = {
      processNewHttp(session) {
        if (session.reqHeader().path() === '/abort') {
          session.writeResponseHeader(ResponseHeader.build(200));
          session.abort();
        } else session.respondErrorWithBody(200, 'fine');
      },
    };
    const server = new HttpServer(aborting, { logger: memoryLogger(entries), h2c: true });
    const svc = new Service('h2 abort', server, { logger: memoryLogger(entries) });
    svc.addTcp('127.0.0.1:0');
    await svc.start(new ShutdownController().watch);
    cleanups.push(() => svc.stop(false, 0));
    const s = connect(`http://127.0.0.1:${tcpPort(svc)}`);
    const req = s.request({ ':path': '/abort' });
    req.on('error', () => {});
    req.resume();
    await new Promise((r) => req.on('close', r));
    expect(req.rstCode).toBe(NGHTTP2_INTERNAL_ERROR);
    expect((await h2request(s, { ':path': '/' })).body.toString()).toBe('fine');
  });
});

describe('downstream HTTP/2 over TLS (ALPN h2)', () => {
  it('a TLS socket that negotiated h2 is served as HTTP/2, http/1.1 as HTTP/1.1', async () => {
    const server = new HttpServer(app, { logger: memoryLogger(entries) });
    const ctl = new ShutdownController();
    const tlsServer = tls.createServer(
      {
        cert: readFileSync(join(FIXTURES, 'localhost.pem')),
        key: readFileSync(join(FIXTURES, 'localhost.key')),
        ALPNProtocols: ['h2', 'http/1.1'],
      },
      (socket) => server.processNew(socket as unknown as net.Socket, ctl.watch),
    );
    await new Promise<void>((r) => tlsServer.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => tlsServer.close(r)));
    cleanups.push(() => server.onShutdown(false));
    const port = (tlsServer.address() as net.AddressInfo).port;
    const ca = readFileSync(join(FIXTURES, 'ca.pem'));
    const s = connect(`https://localhost:${port}`, { ca, host: '127.0.0.1' });
    const r = await h2request(s, { ':method': 'POST', ':path': '/echo', te: 'trailers' }, 'over tls');
    expect(r.body.toString()).toBe('over tls');
    expect(r.headers['x-version']).toBe('2');
    expect(r.trailers?.['x-checksum']).toBe('8');
    const h1 = await new Promise<string>((resolve, reject) => {
      const req = https.request(
        { host: '127.0.0.1', port, servername: 'localhost', ca, path: '/echo', method: 'POST', agent: false },
        (res) => {
          resolve(String(res.headers['x-version']));
          res.resume();
        },
      );
      req.on('error', reject);
      req.end('x');
    });
    expect(h1).toBe('1');
  });
});
