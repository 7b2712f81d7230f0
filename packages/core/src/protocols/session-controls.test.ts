/**
 * Per-request downstream controls over real sockets: write timeout and minimum send rate on
 * HTTP/1.1 and HTTP/2 (a client that stops reading is cut and the app is told why), keep-alive
 * (`Connection: close`, per-connection idle timeout), what happens to an unread request body when
 * the response finishes first (drained for reuse, bounded; or the connection closed), and the
 * HTTP/2 `host` checks.
 */
import { once } from 'node:events';
import http2 from 'node:http2';
import * as net from 'node:net';
import { ErrorType, type PingoraError } from '@pingora-ts/error';
import { ResponseHeader } from '@pingora-ts/http';
import { waitFor } from '@pingora-ts/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import {
  END_HEADERS,
  END_STREAM,
  frame,
  HEADERS,
  headerBlock,
  RawH2,
  RST_STREAM,
  rstCode,
} from '../../test/h2-frames.js';
import { type LogEntry, memoryLogger } from '../../test/helpers.js';
import { HttpServer, type HttpServerOptions } from '../apps/http-app.js';
import { ShutdownController } from '../server/shutdown.js';
import { Service } from '../services/listening.js';
import { scanRequestFields } from './h2-request-fields.js';
import type { HttpServerSession } from './server-session.js';

const services: Service[] = [];
const cleanups: Array<() => void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) c();
  await Promise.all(services.splice(0).map((s) => s.stop(false, 0)));
});

type Handler = (session: HttpServerSession) => void | Promise<void>;

async function start(handler: Handler, options: HttpServerOptions = {}, logs: LogEntry[] = []) {
  const app = new HttpServer({ processNewHttp: handler }, { logger: memoryLogger(logs), ...options });
  const svc = new Service('session-controls', app, {
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

function connect(port: number): net.Socket {
  const s = net.connect({ port, host: '127.0.0.1' });
  s.on('error', () => {});
  cleanups.push(() => s.destroy());
  return s;
}

/** A raw client that records what it receives and whether the server closed the connection. */
function client(port: number) {
  const socket = connect(port);
  const c = { socket, data: '', closed: false };
  socket.setEncoding('latin1');
  socket.on('data', (d: string) => (c.data += d));
  socket.on('close', () => (c.closed = true));
  return c;
}

const CHUNK = Buffer.alloc(64 * 1024, 0x61);

/**
 * Streams up to `chunks` chunks with backpressure; records why the client went away. The session
 * never finishes a response the client does not read.
 */
function streamBig(chunks: number, gone: { reason?: PingoraError; called: boolean }): Handler {
  return (session) => {
    session.onClientGone((reason) => {
      gone.called = true;
      gone.reason = reason;
    });
    const resp = ResponseHeader.build(200);
    resp.insertHeader('Content-Length', chunks * CHUNK.length);
    session.writeResponseHeader(resp);
    let n = 0;
    const pump = (): void => {
      while (n < chunks && !session.responseFinished) {
        n++;
        if (!session.writeResponseBody(CHUNK, n === chunks)) {
          session.onResponseDrain(pump);
          return;
        }
      }
    };
    pump();
  };
}

describe('write timeout and minimum send rate (HTTP/1.1)', () => {
  it('setWriteTimeout cuts a client that stops reading, and tells the app WriteTimedout', async () => {
    const gone: { reason?: PingoraError; called: boolean } = { called: false };
    const big = streamBig(1000, gone);
    // No server-wide write timeout: only the per-request one can cut it.
    const port = await start(
      (s) => {
        s.setWriteTimeout(300);
        return big(s);
      },
      { writeTimeout: null },
    );
    const c = client(port);
    c.socket.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    c.socket.pause();
    await waitFor(() => gone.called, { timeout: 20_000 });
    expect(gone.reason?.type).toBe(ErrorType.WriteTimedout);
    expect(gone.reason?.source).toBe('Downstream');
    c.socket.resume();
    await waitFor(() => c.closed, { timeout: 20_000 });
    expect(c.data.length).toBeLessThan(1000 * CHUNK.length);
  });

  it('setMinSendRate cuts a client that takes nothing and spares one that reads', async () => {
    const gone: { reason?: PingoraError; called: boolean } = { called: false };
    const big = streamBig(64, gone);
    const port = await start(
      (s) => {
        s.setMinSendRate(64 * 1024);
        return big(s);
      },
      { writeTimeout: null },
    );
    // A client reading at loopback speed gets the whole 4 MiB.
    const reader = client(port);
    reader.socket.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    await waitFor(() => reader.data.length >= 64 * CHUNK.length, { timeout: 20_000 });
    expect(gone.called).toBe(false);
    // A client that stops reading is cut once its blocked bytes wait past queued / rate (≥ 1 s).
    const stalled = client(port);
    stalled.socket.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    stalled.socket.pause();
    await waitFor(() => gone.called, { timeout: 20_000 });
    expect(gone.reason?.type).toBe(ErrorType.WriteTimedout);
    expect(gone.reason?.context).toContain('bytes/s');
    stalled.socket.resume();
    await waitFor(() => stalled.closed, { timeout: 20_000 });
  });
});

describe('write timeout (HTTP/2)', () => {
  it('resets only the stream of a client that stops reading', async () => {
    const gone: { reason?: PingoraError; called: boolean } = { called: false };
    const big = streamBig(200, gone);
    const port = await start(
      (s) => {
        if (s.reqHeader().uri === '/small') {
          s.respondErrorWithBody(200, 'small');
          return;
        }
        s.setWriteTimeout(300);
        return big(s);
      },
      { h2c: true },
    );
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on('error', () => {});
    cleanups.push(() => session.destroy());
    const stream = session.request({ ':path': '/big' });
    stream.on('error', () => {});
    stream.pause();
    const closed = once(stream, 'close');
    await waitFor(() => gone.called, { timeout: 20_000 });
    expect(gone.reason?.type).toBe(ErrorType.WriteTimedout);
    stream.resume();
    await closed;
    expect(stream.rstCode).toBe(http2.constants.NGHTTP2_CANCEL);
    // The connection goes on.
    const small = session.request({ ':path': '/small' });
    let body = '';
    small.setEncoding('latin1');
    small.on('data', (d: string) => (body += d));
    await once(small, 'end');
    expect(body).toBe('small');
  });
});

describe('setReadTimeout', () => {
  // Streams the body; a stalled one is answered 408 with the error's type recorded.
  function readBody(errors: PingoraError[]): Handler {
    return (s) => {
      s.setReadTimeout(300);
      s.pumpRequestBody({
        onRequestBody() {},
        onRequestBodyEnd() {
          s.respondErrorWithBody(200, 'read');
        },
        onRequestBodyError(e) {
          errors.push(e as PingoraError);
          s.respondError(408);
        },
      });
    };
  }

  it('HTTP/1.1: replaces a disabled server read timeout for this request', async () => {
    const errors: PingoraError[] = [];
    const port = await start(readBody(errors), { readTimeout: null });
    const c = client(port);
    c.socket.write('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n0123456789');
    await waitFor(() => c.data.startsWith('HTTP/1.1 408'), { timeout: 20_000 });
    expect(errors[0]?.type).toBe(ErrorType.ReadTimedout);
    expect(errors[0]?.source).toBe('Downstream');
  });

  it('HTTP/2: a stream whose body stalls fails with ReadTimedout; a complete one is read', async () => {
    const errors: PingoraError[] = [];
    const port = await start(readBody(errors), { h2c: true });
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on('error', () => {});
    cleanups.push(() => session.destroy());
    const status = (req: http2.ClientHttp2Stream) =>
      once(req, 'response').then(([h]) => Number((h as http2.IncomingHttpHeaders)[':status']));
    const stalled = session.request({ ':path': '/', ':method': 'POST' });
    stalled.on('error', () => {});
    stalled.write('0123456789');
    expect(await status(stalled)).toBe(408);
    expect(errors[0]?.type).toBe(ErrorType.ReadTimedout);
    const whole = session.request({ ':path': '/', ':method': 'POST' });
    whole.end('0123456789');
    expect(await status(whole)).toBe(200);
    expect(errors).toHaveLength(1);
  });
});

describe('setKeepalive (HTTP/1.1)', () => {
  it('undefined answers Connection: close and closes the connection after the response', async () => {
    const port = await start((s) => {
      s.setKeepalive(undefined);
      s.respondErrorWithBody(200, 'bye');
    });
    const c = client(port);
    c.socket.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    await waitFor(() => c.closed, { timeout: 20_000 });
    expect(c.data).toMatch(/^HTTP\/1\.1 200 /);
    expect(c.data).toMatch(/\r\nConnection: close\r\n/i);
    expect(c.data.endsWith('bye')).toBe(true);
  });

  it('a number becomes the idle timeout of the connection and is advertised', async () => {
    // The server's keep-alive timeout is a minute: only the session's 1 s can close it this soon.
    const port = await start(
      (s) => {
        if (s.reqHeader().uri === '/short') s.setKeepalive(1);
        s.respondErrorWithBody(200, 'ok');
      },
      { keepaliveTimeout: 60_000 },
    );
    const c = client(port);
    c.socket.write('GET /short HTTP/1.1\r\nHost: a\r\n\r\n');
    await waitFor(() => c.data.endsWith('ok'), { timeout: 20_000 });
    expect(c.data).toMatch(/\r\nKeep-Alive: timeout=1\r\n/i);
    expect(c.data).not.toMatch(/Connection: close/i);
    // Still usable for another request before it idles out.
    c.socket.write('GET /other HTTP/1.1\r\nHost: a\r\n\r\n');
    await waitFor(() => c.data.split('HTTP/1.1 200').length === 3, { timeout: 20_000 });
    // /other kept the server's timeout for its own idle wait; ask /short again to set 1 s.
    c.socket.write('GET /short HTTP/1.1\r\nHost: a\r\n\r\n');
    await waitFor(() => c.data.split('HTTP/1.1 200').length === 4, { timeout: 20_000 });
    await waitFor(() => c.closed, {
      timeout: 15_000,
      message: 'idle connection closed by the 1 s keep-alive',
    });
    // A connection with the server's timeout is still open.
    const other = client(port);
    other.socket.write('GET /other HTTP/1.1\r\nHost: a\r\n\r\n');
    await waitFor(() => other.data.endsWith('ok'), { timeout: 20_000 });
    expect(other.data).toMatch(/Keep-Alive: timeout=60/i);
    expect(other.closed).toBe(false);
  });
});

describe('response finished before the request body (HTTP/1.1)', () => {
  // Streams the body until its first chunk, pauses it (as the proxy does when its upstream is
  // slow, or done) and answers at once.
  const early: Handler = (s) => {
    const uri = s.reqHeader().uri;
    if (uri === '/close') s.setCloseOnResponseBeforeDownstreamFinish(true);
    if (uri === '/bounded') s.setTotalDrainTimeout(300);
    if (!s.hasRequestBody) {
      s.respondErrorWithBody(200, 'next');
      return;
    }
    let answered = false;
    s.pumpRequestBody({
      onRequestBody() {
        if (answered) return;
        answered = true;
        s.pauseRequestBody();
        s.respondErrorWithBody(200, 'early');
      },
      onRequestBodyEnd() {},
      onRequestBodyError() {},
    });
  };
  const HEAD = (path: string, len: number) =>
    `POST ${path} HTTP/1.1\r\nHost: a\r\nContent-Length: ${len}\r\n\r\n`;

  it('by default drains the rest of the body and serves the next request on the connection', async () => {
    const port = await start(early);
    const c = client(port);
    const len = 4 * 1024 * 1024;
    c.socket.write(HEAD('/drain', len));
    c.socket.write(Buffer.alloc(64 * 1024));
    await waitFor(() => c.data.endsWith('early'), { timeout: 20_000 });
    expect(c.data).not.toMatch(/Connection: close/i);
    // The rest of the upload is read off the wire, then the connection takes another request.
    for (let sent = 64 * 1024; sent < len; sent += CHUNK.length) c.socket.write(CHUNK);
    c.socket.write('GET /next HTTP/1.1\r\nHost: a\r\n\r\n');
    await waitFor(() => c.data.endsWith('next'), { timeout: 20_000 });
    expect(c.closed).toBe(false);
  });

  it('the drain is bounded: a client that stops sending the body is disconnected', async () => {
    const port = await start(early, { readTimeout: null });
    const c = client(port);
    c.socket.write(HEAD('/bounded', 1_000_000));
    c.socket.write(Buffer.alloc(1000));
    await waitFor(() => c.data.endsWith('early'), { timeout: 20_000 });
    await waitFor(() => c.closed, { timeout: 20_000, message: 'connection closed by the drain bound' });
  });

  it('with setCloseOnResponseBeforeDownstreamFinish(true) answers Connection: close and closes', async () => {
    const port = await start(early);
    const c = client(port);
    c.socket.write(HEAD('/close', 4 * 1024 * 1024));
    c.socket.write(Buffer.alloc(64 * 1024));
    await waitFor(() => c.closed, { timeout: 20_000 });
    expect(c.data).toMatch(/^HTTP\/1\.1 200 /);
    expect(c.data).toMatch(/\r\nConnection: close\r\n/i);
  });
});

describe('HTTP/2 host checks', () => {
  it('scanRequestFields flags a second host field and a host other than :authority', () => {
    expect(scanRequestFields([':authority', 'a', 'host', 'a', 'host', 'a']).badHost).toBe(
      'more than one host field',
    );
    expect(scanRequestFields([':authority', 'a:8080', 'host', 'a']).badHost).toBe(
      'host field differs from :authority',
    );
    expect(scanRequestFields([':authority', 'a', 'host', 'A']).badHost).toBeUndefined();
    expect(scanRequestFields(['host', 'a']).badHost).toBeUndefined();
  });

  async function h2Status(port: number, headers: http2.OutgoingHttpHeaders): Promise<number> {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on('error', () => {});
    cleanups.push(() => session.destroy());
    const req = session.request(headers);
    req.on('error', () => {});
    const [h] = (await once(req, 'response')) as [http2.IncomingHttpHeaders];
    req.resume();
    return Number(h[':status']);
  }

  it('answers 400 when host disagrees with :authority, and serves it when they agree', async () => {
    const logs: LogEntry[] = [];
    let served = 0;
    const port = await start(
      (s) => {
        served++;
        s.respondErrorWithBody(200, 'ok');
      },
      { h2c: true },
      logs,
    );
    expect(await h2Status(port, { ':path': '/', ':authority': 'a.example', host: 'b.example' })).toBe(400);
    expect(served).toBe(0);
    expect(logs.some((l) => l.msg?.includes('host field differs from :authority'))).toBe(true);
    expect(await h2Status(port, { ':path': '/', ':authority': 'a.example', host: 'A.example' })).toBe(200);
    expect(served).toBe(1);
  });

  it('two host fields never reach the app: nghttp2 resets the stream (node:http2 cannot send them)', async () => {
    let served = 0;
    const port = await start(
      (s) => {
        served++;
        s.respondErrorWithBody(200, 'ok');
      },
      { h2c: true },
    );
    const raw = await RawH2.open(port);
    cleanups.push(() => raw.close());
    const base: Array<[string, string]> = [
      [':method', 'GET'],
      [':scheme', 'http'],
      [':path', '/'],
      [':authority', 'a.example'],
      ['host', 'a.example'],
    ];
    raw.send(frame(HEADERS, END_HEADERS | END_STREAM, 1, headerBlock([...base, ['host', 'a.example']])));
    raw.send(frame(HEADERS, END_HEADERS | END_STREAM, 3, headerBlock(base)));
    const frames = await raw.until((f) => f.some((x) => x.streamId === 1) && f.some((x) => x.streamId === 3));
    const first = frames.find((x) => x.streamId === 1);
    expect(first?.type).toBe(RST_STREAM);
    expect(rstCode(first!)).toBe(http2.constants.NGHTTP2_PROTOCOL_ERROR);
    // The same request with one host field is served.
    expect(frames.find((x) => x.streamId === 3)?.type).toBe(HEADERS);
    await waitFor(() => served === 1);
  });
});
