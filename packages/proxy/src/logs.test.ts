/**
 * What the proxy tells a person reading its logs: which phase failed (with the thrown error's
 * stack), responses cut short after their head went out, retries, upstream timing and the access
 * log helper. Everything runs over real sockets.
 */
import http from 'node:http';
import http2 from 'node:http2';
import { createLogger, HttpPeer } from '@pingora-ts/core';
import { deadPort } from '@pingora-ts/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type AccessLogRecord,
  accessLog,
  accessLogRecord,
  type Session,
  type UpstreamTiming,
} from '../src/index.js';
import { closeAllH2, h2connect, startH2cProxy } from '../test/h2.js';
import { closeAll, request, startOrigin, startProxy, waitFor } from '../test/helpers.js';

afterEach(async () => {
  await closeAllH2();
  await closeAll();
});

const THIS_FILE = 'logs.test.ts';

/** GET over node:http that settles however the response ends: complete, aborted, or an error. */
function getOutcome(
  url: string,
  onData?: (chunk: Buffer) => void,
): Promise<{ status?: number; body: string; complete: boolean; error?: string }> {
  return new Promise((resolve) => {
    let body = '';
    let status: number | undefined;
    const req = http.get(url, { agent: false }, (res) => {
      status = res.statusCode;
      res.on('data', (c: Buffer) => {
        body += c;
        onData?.(c);
      });
      res.on('error', () => {});
      res.on('close', () => resolve({ status, body, complete: res.complete }));
    });
    req.on('error', (e) => resolve({ status, body, complete: false, error: e.message }));
  });
}

describe('a phase that throws', () => {
  it('is logged as `<phase> failed: <message>` with the original error (and its stack) as the cause', async () => {
    let served = 0;
    const origin = await startOrigin((_req, res) => {
      served++;
      res.end('never');
    });
    const p = await startProxy({
      requestFilter() {
        throw new Error('boom');
      },
      upstreamPeer: () => origin.peer(),
    });
    expect((await request(p.url('/x'))).status).toBe(500);
    await waitFor(() => p.logs.some((l) => l.level === 'error'), { message: 'the error log line' });
    const line = p.logs.find((l) => l.level === 'error')!;
    expect(line.msg).toMatch(
      /^requestFilter failed: boom, status: 500, tries: 0, retry: false, GET \/x, Host: /,
    );
    const err = (line.obj as { err: Error & { cause?: unknown } }).err;
    const cause = err.cause as Error;
    expect(cause.message).toBe('boom');
    expect(cause.stack).toContain(THIS_FILE);
    expect(served).toBe(0);
  });

  it('a rejected async phase is named too, and pino writes the cause stack', async () => {
    const out: string[] = [];
    const logger = createLogger({ destination: (l: string) => out.push(l), pretty: false, level: 'info' });
    const origin = await startOrigin((_req, res) => res.end('ok'));
    const p = await startProxy(
      {
        upstreamPeer: () => origin.peer(),
        async upstreamRequestFilter() {
          await Promise.resolve();
          throw new TypeError('no header for you');
        },
      },
      { logger },
    );
    expect((await request(p.url('/y'))).status).toBe(500);
    await waitFor(() => out.some((l) => l.includes('upstreamRequestFilter failed')), {
      message: 'the JSON error line',
    });
    const rec = JSON.parse(out.find((l) => l.includes('upstreamRequestFilter failed'))!);
    expect(rec.msg).toMatch(/^upstreamRequestFilter failed: no header for you, status: 500/);
    expect(rec.err.stack).toContain('caused by: TypeError: no header for you');
    expect(rec.err.stack).toContain(THIS_FILE);
  });

  it('response header phases are named too, sync or async', async () => {
    const origin = await startOrigin((_req, res) => res.end('ok'));
    const p = await startProxy({
      upstreamPeer: () => origin.peer(),
      async upstreamResponseFilter(s) {
        if (s.reqHeader().uri === '/up') throw new Error('upstream side');
      },
      responseFilter(s) {
        if (s.reqHeader().uri === '/down') throw new Error('downstream side');
      },
    });
    expect((await request(p.url('/up'))).status).toBe(500);
    expect((await request(p.url('/down'))).status).toBe(500);
    await waitFor(() => p.logs.filter((l) => l.level === 'error').length === 2);
    const msgs = p.logs.filter((l) => l.level === 'error').map((l) => l.msg);
    expect(msgs[0]).toMatch(/^upstreamResponseFilter failed: upstream side, status: 500, /);
    expect(msgs[1]).toMatch(/^responseFilter failed: downstream side, status: 500, /);
  });

  it('a thrown PingoraError keeps its status and is still named by phase', async () => {
    const { ErrorType, PingoraError } = await import('@pingora-ts/error');
    const p = await startProxy({
      upstreamPeer() {
        throw PingoraError.explain(ErrorType.HTTPStatus(503), 'maintenance').asIn();
      },
    });
    expect((await request(p.url('/'))).status).toBe(503);
    await waitFor(() => p.logs.some((l) => l.level === 'error'));
    expect(p.logs.find((l) => l.level === 'error')!.msg).toMatch(
      /^upstreamPeer failed: Internal HTTPStatus context: maintenance, status: 503/,
    );
  });
});

describe('a response body filter that throws after the head went out', () => {
  it('HTTP/1.1: aborts the client connection mid-body and says so in the log, with the real status', async () => {
    let release: () => void = () => {};
    const more = new Promise<void>((r) => (release = r));
    const origin = await startOrigin((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.write('first;');
      void more.then(() => res.end('second'));
    });
    const p = await startProxy({
      upstreamPeer: () => origin.peer(),
      responseBodyFilter(_s, body) {
        if (body?.toString().includes('second')) throw new Error('cannot rewrite this');
        return undefined;
      },
    });
    // The client has the head and a first piece of body before the filter fails.
    const r = await getOutcome(p.url('/stream'), () => release());
    expect(r.status).toBe(200);
    expect(r.body).toBe('first;');
    expect(r.complete).toBe(false);
    await waitFor(() => p.logs.some((l) => l.level === 'error'), { message: 'the abort log line' });
    const line = p.logs.find((l) => l.level === 'error')!;
    expect(line.msg).toMatch(
      /^responseBodyFilter failed after the response header was sent; aborting the downstream connection: cannot rewrite this, status: 200, /,
    );
    expect(line.msg).not.toContain('status: 500');
  });

  it('HTTP/1.1: a filter failing on the first chunk leaves the client an error, not an empty 200', async () => {
    const origin = await startOrigin((_req, res) => res.end('payload'));
    const logged: AccessLogRecord[] = [];
    const p = await startProxy({
      upstreamPeer: () => origin.peer(),
      responseBodyFilter() {
        throw new Error('nope');
      },
      logging: (s, e) => {
        logged.push(accessLogRecord(s, e));
      },
    });
    const r = await getOutcome(p.url('/'));
    expect(r.complete).toBe(false);
    await waitFor(() => logged.length === 1, { message: 'the logging phase' });
    expect(logged[0]).toMatchObject({ status: 200, aborted: true, error: 'responseBodyFilter failed: nope' });
  });

  it('HTTP/2: resets the stream instead of ending it', async () => {
    const origin = await startOrigin((_req, res) => res.end('payload'));
    const p = await startH2cProxy({
      upstreamPeer: () => origin.peer(),
      responseBodyFilter() {
        throw new Error('h2 nope');
      },
    });
    const s = h2connect(`http://127.0.0.1:${p.port}`);
    const req = s.request({ ':path': '/' });
    req.on('error', () => {});
    req.resume();
    await new Promise<void>((r) => req.on('close', r));
    // CANCEL, as Pingora. node's client emits 'end' (not 'error') on a CANCEL reset, so the reset
    // code is what tells the client that the response was cut short.
    expect(req.rstCode).toBe(http2.constants.NGHTTP2_CANCEL);
    await waitFor(() => p.logs.some((l) => l.level === 'error'));
    expect(p.logs.find((l) => l.level === 'error')!.msg).toMatch(
      /^responseBodyFilter failed after the response header was sent; aborting the downstream connection: h2 nope, status: 200/,
    );
  });
});

describe('retry log lines', () => {
  it('an errorWhileProxy retry names the peer, the failure and the next attempt', async () => {
    let first = true;
    const origin = await startOrigin((req, res) => {
      if (first) {
        first = false;
        req.socket.destroy();
        return;
      }
      res.end('second try');
    });
    const p = await startProxy({
      upstreamPeer: () => origin.peer(),
      errorWhileProxy: (_peer, _s, e) => e.setRetry(true),
    });
    expect((await request(p.url('/'))).body).toBe('second try');
    const lines = p.logs.filter((l) => l.msg.startsWith('retrying request:'));
    expect(lines).toHaveLength(1);
    expect(lines[0]!.level).toBe('warn');
    expect(lines[0]!.msg).toMatch(
      new RegExp(
        `^retrying request: request to 127\\.0\\.0\\.1:${origin.port} failed \\(.+\\), attempt 2, GET /`,
      ),
    );
  });

  it('the last attempt is not announced as a retry', async () => {
    const dead = await deadPort();
    const p = await startProxy(
      {
        upstreamPeer: () => new HttpPeer(`127.0.0.1:${dead}`, false, ''),
        failToConnect: (_s, _p, _c, e) => e.setRetry(true),
      },
      { maxRetries: 2 },
    );
    expect((await request(p.url('/'))).status).toBe(502);
    const retries = p.logs.filter((l) => l.msg.startsWith('retrying request:')).map((l) => l.msg);
    expect(retries).toEqual([expect.stringContaining('failed (Connection refused), attempt 2')]);
    await waitFor(() => p.logs.some((l) => l.level === 'error'));
    expect(p.logs.find((l) => l.level === 'error')!.msg).toMatch(
      /^Fail to proxy: .*ConnectRefused.*tries: 2/,
    );
  });
});

describe('upstream timing', () => {
  it('reports connect, first byte and total for a new connection, and reused: true with connect 0 after', async () => {
    const origin = await startOrigin((_req, res) => res.end('ok'));
    const timings: Array<UpstreamTiming | undefined> = [];
    const p = await startProxy({
      upstreamPeer: () => origin.peer(),
      logging: (s: Session) => {
        timings.push(s.upstreamTiming());
      },
    });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let i = 0; i < 2; i++) {
        await new Promise<void>((resolve, reject) => {
          http.get(p.url('/'), { agent }, (res) => res.resume().on('end', resolve)).on('error', reject);
        });
      }
    } finally {
      agent.destroy();
    }
    await waitFor(() => timings.length === 2, { message: 'two logging calls' });
    const [fresh, reused] = timings as [UpstreamTiming, UpstreamTiming];
    expect(fresh.reused).toBe(false);
    expect(fresh.connect).toBeGreaterThan(0);
    expect(fresh.tlsHandshake).toBe(0);
    expect(fresh.firstByte).toBeGreaterThan(0);
    expect(fresh.total).toBeGreaterThanOrEqual(fresh.connect + fresh.firstByte);
    expect(reused).toMatchObject({ reused: true, connect: 0, tlsHandshake: 0 });
    expect(reused.firstByte).toBeGreaterThan(0);
    expect(reused.total).toBeGreaterThanOrEqual(reused.firstByte);
  });

  it('is undefined when no upstream was asked for, and a failed connect reports its time', async () => {
    const dead = await deadPort();
    const timings: Array<UpstreamTiming | undefined> = [];
    const p = await startProxy({
      requestFilter: (s) => {
        if (s.reqHeader().uri === '/local') {
          s.respondError(204);
          return true;
        }
        return false;
      },
      upstreamPeer: () => new HttpPeer(`127.0.0.1:${dead}`, false, ''),
      logging: (s) => {
        timings.push(s.upstreamTiming());
      },
    });
    await request(p.url('/local'));
    await request(p.url('/dead'));
    await waitFor(() => timings.length === 2);
    expect(timings[0]).toBeUndefined();
    expect(timings[1]).toMatchObject({ reused: false, firstByte: -1 });
    expect(timings[1]!.connect).toBeGreaterThan(0);
    expect(timings[1]!.total).toBeGreaterThanOrEqual(timings[1]!.connect);
  });
});

describe('accessLog', () => {
  it('logs one line per proxied request with status, bytes, upstream and timing', async () => {
    const origin = await startOrigin((_req, res) => res.end('hello'));
    const records: AccessLogRecord[] = [];
    const p = await startProxy({
      upstreamPeer: () => origin.peer(),
      logging: (s, e) => {
        records.push(accessLog(s.logger, s, e));
      },
    });
    expect((await request(p.url('/hello?x=1'))).body).toBe('hello');
    await waitFor(() => p.logs.some((l) => l.msg.startsWith('GET ')), { message: 'the access line' });
    const line = p.logs.find((l) => l.msg.startsWith('GET '))!;
    expect(line.msg).toMatch(
      new RegExp(
        `^GET /hello\\?x=1 200 bytes=5 time=[\\d.]+ms upstream=127\\.0\\.0\\.1:${origin.port} connect=[\\d.]+ms ttfb=[\\d.]+ms upstream_time=[\\d.]+ms retries=0 client=127\\.0\\.0\\.1:\\d+$`,
      ),
    );
    expect(line.level).toBe('info');
    expect(records[0]).toMatchObject({
      method: 'GET',
      path: '/hello?x=1',
      status: 200,
      bytesSent: 5,
      upstream: `127.0.0.1:${origin.port}`,
      upstreamReused: false,
      retries: 0,
      aborted: false,
      error: undefined,
    });
    const r = records[0]!;
    expect(r.upstreamFirstByte).toBeGreaterThan(0);
    expect(r.total).toBeGreaterThanOrEqual(r.upstreamTotal!);
  });

  it('counts retries and reports the error of a failed request', async () => {
    const dead = await deadPort();
    const origin = await startOrigin((_req, res) => res.end('ok'));
    const p = await startProxy<{ n: number }>({
      newCtx: () => ({ n: 0 }),
      upstreamPeer: (_s, ctx) =>
        ctx.n++ === 0 ? new HttpPeer(`127.0.0.1:${dead}`, false, '') : origin.peer(),
      failToConnect: (_s, _p, _c, e) => e.setRetry(true),
      logging: (s, e) => {
        accessLog(s.logger, s, e);
      },
    });
    await request(p.url('/retried'));
    await waitFor(() => p.logs.some((l) => l.msg.startsWith('GET /retried')));
    expect(p.logs.find((l) => l.msg.startsWith('GET /retried'))!.msg).toMatch(
      new RegExp(`^GET /retried 200 bytes=2 .*upstream=127\\.0\\.0\\.1:${origin.port} .*retries=1 `),
    );

    const q = await startProxy({
      upstreamPeer: () => new HttpPeer(`127.0.0.1:${dead}`, false, ''),
      logging: (s, e) => {
        accessLog(s.logger, s, e);
      },
    });
    await request(q.url('/down'));
    await waitFor(() => q.logs.some((l) => l.msg.startsWith('GET /down')));
    expect(q.logs.find((l) => l.msg.startsWith('GET /down'))!.msg).toMatch(
      new RegExp(
        `^GET /down 502 bytes=0 .*upstream=127\\.0\\.0\\.1:${dead} connect=[\\d.]+ms upstream_time=[\\d.]+ms retries=0 .*error=".*ConnectRefused`,
      ),
    );
  });
});
