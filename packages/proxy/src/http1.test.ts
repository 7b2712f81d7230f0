import { createHash } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import {
  closeAll,
  rawRequest,
  request,
  startOrigin,
  startProxy,
  waitFor,
  waitForStall,
} from '../test/helpers.js';

afterEach(closeAll);

describe('HTTP/1.1 behaviour through the proxy', () => {
  it('reuses one upstream connection for sequential requests (keep-alive pool)', async () => {
    const origin = await startOrigin((_req, res) => res.end('x'));
    const p = await startProxy({ upstreamPeer: () => origin.peer() });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    for (let i = 0; i < 20; i++) expect((await request(p.url('/'), { agent })).body).toBe('x');
    agent.destroy();
    expect(origin.connections).toBe(1);
    expect(p.proxy.connector.stats.connectionsCreated).toBe(1);
    expect(p.proxy.connector.stats.reuses).toBe(19);
  });

  it('answers pipelined requests in order', async () => {
    const origin = await startOrigin((req, res) => {
      // The first answer is the slowest, so order must come from the proxy, not from timing.
      const delay = req.url === '/1' ? 20 : 0;
      setTimeout(() => res.end(`body${req.url}`), delay);
    });
    const p = await startProxy({ upstreamPeer: () => origin.peer() });
    const reqs = ['/1', '/2', '/3'].map((u) => `GET ${u} HTTP/1.1\r\nHost: a\r\n\r\n`).join('');
    const out = await rawRequest(p.port, reqs);
    const bodies = [...out.matchAll(/body\/(\d)/g)].map((m) => m[1]);
    expect(bodies).toEqual(['1', '2', '3']);
  });

  it('HEAD, 204 and 304 responses carry no body', async () => {
    const origin = await startOrigin((req, res) => {
      if (req.url === '/204') res.writeHead(204).end();
      else if (req.url === '/304') res.writeHead(304, { ETag: '"a"' }).end();
      else {
        res.writeHead(200, { 'Content-Length': '5' });
        res.end(req.method === 'HEAD' ? undefined : 'hello');
      }
    });
    const p = await startProxy({ upstreamPeer: () => origin.peer() });
    const out = await rawRequest(
      p.port,
      'HEAD / HTTP/1.1\r\nHost: a\r\n\r\nGET /204 HTTP/1.1\r\nHost: a\r\n\r\nGET /304 HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n',
    );
    const statuses = [...out.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]);
    expect(statuses).toEqual(['200', '204', '304', '200']);
    expect(out.match(/Content-Length: 5/g)).toHaveLength(2);
    expect(out.split('hello')).toHaveLength(2);
  });

  it('Expect: 100-continue: 100 sent when the body is needed; a refused request never gets it', async () => {
    let got = '';
    const origin = await startOrigin((req, res) => {
      req.on('data', (c) => (got += c));
      req.on('end', () => res.end('stored'));
    });
    const p = await startProxy({
      requestFilter(session) {
        if (session.reqHeader().uri === '/deny') {
          session.respondError(401);
          return true;
        }
        return false;
      },
      upstreamPeer: () => origin.peer(),
    });
    const sendExpect = (path: string) =>
      new Promise<{ sawContinue: boolean; status: number; body: string }>((resolve, reject) => {
        let sawContinue = false;
        const req = http.request(p.url(path), {
          method: 'PUT',
          agent: false,
          headers: { Expect: '100-continue', 'Content-Length': 4 },
        });
        req.on('continue', () => {
          sawContinue = true;
          req.end('data');
        });
        req.on('response', (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve({ sawContinue, status: res.statusCode!, body }));
        });
        req.on('error', reject);
        req.flushHeaders();
      });
    const ok = await sendExpect('/upload');
    expect(ok).toEqual({ sawContinue: true, status: 200, body: 'stored' });
    expect(got).toBe('data');
    const denied = await sendExpect('/deny');
    expect(denied.sawContinue).toBe(false);
    expect(denied.status).toBe(401);
  });

  it('chunked request bodies and their trailers reach the origin', async () => {
    let body = '';
    let trailers: Record<string, string | undefined> = {};
    const origin = await startOrigin((req, res) => {
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        trailers = req.trailers;
        res.end('ok');
      });
    });
    const p = await startProxy({ upstreamPeer: () => origin.peer() });
    const out = await rawRequest(
      p.port,
      'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\nX-Sum: 5\r\n\r\n',
    );
    expect(out).toMatch(/^HTTP\/1\.1 200/);
    expect(body).toBe('abcde');
    expect(trailers['x-sum']).toBe('5');
  });

  it('streams 100 MB each way intact', async () => {
    const SIZE = 100 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024, 7);
    let upHash = '';
    const origin = await startOrigin((req, res) => {
      const h = createHash('sha256');
      req.on('data', (c) => h.update(c));
      req.on('end', () => {
        upHash = h.digest('hex');
        res.writeHead(200, { 'Content-Length': String(SIZE) });
        Readable.from(gen(SIZE, chunk)).pipe(res);
      });
    });
    const p = await startProxy({ upstreamPeer: () => origin.peer() });
    const expected = createHash('sha256');
    for (const c of gen(SIZE, chunk)) expected.update(c);
    const expectedHex = expected.digest('hex');
    const downHex = await new Promise<string>((resolve, reject) => {
      const req = http.request(
        p.url('/'),
        { method: 'POST', agent: false, headers: { 'Content-Length': String(SIZE) } },
        (res) => {
          const h = createHash('sha256');
          res.on('data', (c) => h.update(c));
          res.on('end', () => resolve(h.digest('hex')));
        },
      );
      req.on('error', reject);
      Readable.from(gen(SIZE, chunk)).pipe(req);
    });
    expect(upHash).toBe(expectedHex);
    expect(downHex).toBe(expectedHex);
  }, 60_000);

  it('applies backpressure: a client that stops reading stops the origin', async () => {
    let written = 0;
    let blocked = false;
    const origin = await startOrigin((_req, res) => {
      const chunk = Buffer.alloc(64 * 1024);
      const pump = () => {
        while (written < 200 * 1024 * 1024) {
          written += chunk.length;
          if (!res.write(chunk)) {
            blocked = true;
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      pump();
    });
    const p = await startProxy({ upstreamPeer: () => origin.peer() });
    const client = net.connect(p.port, '127.0.0.1');
    client.on('error', () => {});
    client.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    client.pause(); // a client that reads nothing
    await waitFor(() => blocked, { message: 'the origin to see backpressure' });
    // Once every buffer on the way is full the origin must stay blocked far below the 200 MB it
    // wants to send.
    await waitForStall(() => written, 'the origin to stop writing');
    expect(written).toBeLessThan(32 * 1024 * 1024);
    client.destroy();
  });
});

function* gen(size: number, chunk: Buffer): Generator<Buffer> {
  for (let sent = 0; sent < size; sent += chunk.length) yield chunk;
}

describe('downstream timeouts', () => {
  it('a client that stalls mid-body gets 408 and the upstream request is aborted', async () => {
    let upstreamAborted = false;
    const origin = await startOrigin((req) => {
      req.on('error', () => {});
      req.socket.on('close', () => (upstreamAborted = true));
      req.resume();
    });
    const p = await startProxy({ upstreamPeer: () => origin.peer() }, { serverOptions: { readTimeout: 50 } });
    const out = await rawRequest(
      p.port,
      'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc',
      1_000,
    );
    expect(out).toMatch(/^HTTP\/1\.1 408 /);
    await waitFor(() => upstreamAborted);
  });

  it('a client that stops reading is disconnected by the write timeout; the origin is released', async () => {
    let originDone = false;
    const origin = await startOrigin((_req, res) => {
      const chunk = Buffer.alloc(64 * 1024);
      let n = 0;
      const pump = () => {
        while (n++ < 2000) if (!res.write(chunk)) return void res.once('drain', pump);
        res.end();
      };
      res.on('close', () => (originDone = true));
      pump();
    });
    const p = await startProxy(
      { upstreamPeer: () => origin.peer() },
      { serverOptions: { writeTimeout: 50 } },
    );
    const client = net.connect(p.port, '127.0.0.1');
    client.on('error', () => {});
    client.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    client.pause(); // reads nothing, so the proxy's writes stay blocked
    await waitFor(() => p.logs.some((l) => l.msg.includes('status: 499')));
    await waitFor(() => originDone);
    // Reading again, the client finds a truncated response and a closed connection.
    let received = 0;
    client.on('data', (c) => (received += c.length));
    const closed = new Promise<void>((r) => client.on('close', () => r()));
    client.resume();
    await closed;
    expect(received).toBeLessThan(2000 * 64 * 1024);
  });
});
