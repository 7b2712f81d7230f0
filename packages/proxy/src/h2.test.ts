import { once } from 'node:events';
import http from 'node:http';
import http2 from 'node:http2';
import { HttpPeer } from '@pingora-ts/core';
import { afterEach, describe, expect, it } from 'vitest';
import { request, startOrigin, waitFor, waitForStall } from '../test/helpers.js';
import {
  closeAllH2,
  fixture,
  h2connect,
  h2fetch,
  startH2cProxy,
  startH2Origin,
  startTlsProxy,
  type StreamHandler,
} from '../test/h2.js';

afterEach(closeAllH2);

const { NGHTTP2_CANCEL, NGHTTP2_REFUSED_STREAM } = http2.constants;

/** Echoes what it received: method, path, authority and selected fields as JSON; trailers back. */
const echoH2: StreamHandler = (stream, headers, raw) => {
  const chunks: Buffer[] = [];
  let reqTrailers: Record<string, unknown> | undefined;
  stream.on('trailers', (t) => (reqTrailers = { ...t }));
  stream.on('data', (c: Buffer) => chunks.push(c));
  stream.on('end', () => {
    const names = raw.filter((_, i) => i % 2 === 0);
    const body = JSON.stringify({
      method: headers[':method'],
      path: headers[':path'],
      authority: headers[':authority'],
      scheme: headers[':scheme'],
      names,
      te: headers.te,
      body: Buffer.concat(chunks).toString(),
      trailers: reqTrailers,
    });
    stream.respond(
      { ':status': 200, 'content-type': 'application/json', 'x-origin': 'h2' },
      { waitForTrailers: true },
    );
    stream.once('wantTrailers', () => stream.sendTrailers({ 'x-origin-trailer': 'yes' }));
    stream.end(body);
  });
};

function proxyTo(peer: () => HttpPeer) {
  let contexts = 0;
  return {
    get contexts() {
      return contexts;
    },
    newCtx: () => ({ id: ++contexts }),
    upstreamPeer: () => peer(),
  };
}

describe('HTTP/2 through the proxy', () => {
  it('h2c → h1: :authority becomes Host, bodies without length go chunked, trailers come back', async () => {
    const seen: Array<{ raw: string[]; version: string; body: string }> = [];
    const origin = await startOrigin((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen.push({ raw: req.rawHeaders, version: req.httpVersion, body });
        res.writeHead(200, {
          'Content-Type': 'text/plain',
          Trailer: 'x-h1-trailer',
          Connection: 'keep-alive',
        });
        res.addTrailers({ 'x-h1-trailer': 'done' });
        res.end(`got ${body}`);
      });
    });
    const p = await startH2cProxy(proxyTo(() => origin.peer()));
    const s = h2connect(`http://127.0.0.1:${p.port}`);
    const r = await h2fetch(
      s,
      { ':method': 'POST', ':path': '/a?b=1', ':authority': 'site.example', te: 'trailers' },
      ['one,', 'two'],
    );
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('got one,two');
    expect(r.trailers?.['x-h1-trailer']).toBe('done');
    expect(r.headers.connection).toBeUndefined();
    expect(r.headers['keep-alive']).toBeUndefined();
    const up = seen[0]!;
    expect(up.version).toBe('1.1');
    const fields: Record<string, string> = {};
    for (let i = 0; i < up.raw.length; i += 2) fields[up.raw[i]!.toLowerCase()] = up.raw[i + 1]!;
    expect(fields.host).toBe('site.example');
    expect(up.raw[0]).toBe('Host');
    expect(fields['transfer-encoding']).toBe('chunked');
    // TE is hop-by-hop on HTTP/1.1 (it would need `Connection: TE`): only HTTP/2 upstreams get it.
    expect(fields.te).toBeUndefined();
    // With a Content-Length the body keeps its length.
    await h2fetch(
      s,
      { ':method': 'PUT', ':path': '/', ':authority': 'site.example', 'content-length': '3' },
      'abc',
    );
    const second = seen[1]!;
    expect(second.raw).toContain('Content-Length');
    expect(second.raw).not.toContain('Transfer-Encoding');
    expect(second.body).toBe('abc');
  });

  it('h1 → h2: Host becomes :authority, connection-specific fields are dropped, te only as trailers', async () => {
    const origin = await startH2Origin(echoH2);
    const p = await startH2cProxy(proxyTo(() => origin.peer()));
    const res = await new Promise<{
      status: number;
      body: string;
      trailers: NodeJS.Dict<string>;
      headers: http.IncomingHttpHeaders;
    }>((resolve, reject) => {
      const req = http.request(
        {
          port: p.port,
          host: '127.0.0.1',
          method: 'POST',
          path: '/up?x=1',
          agent: false,
          headers: {
            Host: 'h1.example',
            Connection: 'keep-alive, X-Hop',
            'X-Hop': 'gone',
            'Keep-Alive': 'timeout=5',
            TE: 'trailers, deflate',
            'X-Keep': 'kept',
          },
        },
        (r) => {
          let body = '';
          r.on('data', (c) => (body += c));
          r.on('end', () =>
            resolve({ status: r.statusCode!, body, trailers: r.trailers, headers: r.headers }),
          );
        },
      );
      req.on('error', reject);
      req.end('payload');
    });
    expect(res.status).toBe(200);
    const seen = JSON.parse(res.body);
    expect(seen).toMatchObject({
      method: 'POST',
      path: '/up?x=1',
      authority: 'h1.example',
      scheme: 'http',
      te: 'trailers',
      body: 'payload',
    });
    expect(seen.names).toContain('x-keep');
    for (const n of ['connection', 'keep-alive', 'x-hop', 'host', 'transfer-encoding'])
      expect(seen.names).not.toContain(n);
    expect(res.headers['x-origin']).toBe('h2');
    expect(res.headers['transfer-encoding']).toBe('chunked');
    expect(res.trailers['x-origin-trailer']).toBe('yes');
  });

  it('h2 → h2: request and response trailers end to end, one Ctx per stream', async () => {
    const origin = await startH2Origin(echoH2);
    const inner = proxyTo(() => origin.peer());
    const p = await startH2cProxy(inner);
    const s = h2connect(`http://127.0.0.1:${p.port}`);
    const rs = await Promise.all(
      [1, 2, 3].map((i) =>
        h2fetch(
          s,
          {
            ':method': 'POST',
            ':path': `/s${i}`,
            ':authority': 'grpc.example',
            te: 'trailers',
            'content-type': 'application/grpc',
          },
          `msg${i}`,
          { 'x-client-trailer': String(i) },
        ),
      ),
    );
    rs.forEach((r, i) => {
      const seen = JSON.parse(r.body.toString());
      expect(seen).toMatchObject({
        path: `/s${i + 1}`,
        authority: 'grpc.example',
        te: 'trailers',
        body: `msg${i + 1}`,
      });
      expect(seen.trailers).toEqual({ 'x-client-trailer': String(i + 1) });
      expect(r.trailers?.['x-origin-trailer']).toBe('yes');
    });
    expect(inner.contexts).toBe(3);
    // One upstream connection carried the three streams.
    expect(origin.sessions.length).toBe(1);
  });

  it('h2 → h2 over TLS (ALPN h2 on both sides)', async () => {
    const origin = await startH2Origin(echoH2, true);
    const p = await startTlsProxy(proxyTo(() => origin.peer()));
    const s = h2connect(`https://localhost:${p.port}`, { ca: fixture('ca.pem'), host: '127.0.0.1' });
    const r = await h2fetch(s, { ':method': 'POST', ':path': '/tls', te: 'trailers' }, 'secure');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body.toString())).toMatchObject({ path: '/tls', scheme: 'https', body: 'secure' });
    expect(r.trailers?.['x-origin-trailer']).toBe('yes');
    expect((s.socket as import('node:tls').TLSSocket).alpnProtocol).toBe('h2');
  });

  it('a client cancel on an h2 stream becomes RST_STREAM(CANCEL) upstream', async () => {
    let started: () => void = () => {};
    const began = new Promise<void>((r) => (started = r));
    const origin = await startH2Origin((stream, headers) => {
      stream.respond({ ':status': 200 });
      if (headers[':path'] !== '/long') {
        stream.end('short');
        return;
      }
      stream.write('first');
      started();
    });
    const p = await startH2cProxy(proxyTo(() => origin.peer()));
    const s = h2connect(`http://127.0.0.1:${p.port}`);
    const req = s.request({ ':path': '/long' });
    req.on('error', () => {});
    const responded = once(req, 'response');
    req.resume();
    await began;
    await responded;
    req.close(NGHTTP2_CANCEL);
    await waitFor(() => origin.closedCodes.length === 1);
    expect(origin.closedCodes).toEqual([NGHTTP2_CANCEL]);
    // The proxy's connection to the origin survives for the next request.
    const again = await h2fetch(s, { ':path': '/next' });
    expect(again.body.toString()).toBe('short');
    expect(origin.sessions.length).toBe(1);
  });

  it('a client cancel on an h2 stream closes an HTTP/1.1 upstream connection', async () => {
    let closed = false;
    const origin = await startOrigin((req, res) => {
      res.writeHead(200);
      res.write('first');
      req.socket.on('close', () => (closed = true));
    });
    const p = await startH2cProxy(proxyTo(() => origin.peer()));
    const s = h2connect(`http://127.0.0.1:${p.port}`);
    const req = s.request({ ':path': '/long' });
    req.on('error', () => {});
    req.on('data', () => req.close(NGHTTP2_CANCEL));
    await waitFor(() => closed);
    expect(closed).toBe(true);
  });

  it('REFUSED_STREAM and GOAWAY are retried on a fresh connection, invisible to the client', async () => {
    let n = 0;
    const origin = await startH2Origin((stream, headers, raw) => {
      n++;
      if (n === 1) {
        stream.close(NGHTTP2_REFUSED_STREAM);
        return;
      }
      if (n === 2) {
        // Drain the connection: this stream is answered, later ones on it are refused.
        stream.session!.goaway(0, stream.id);
        setTimeout(() => echoH2(stream, headers, raw), 20);
        return;
      }
      echoH2(stream, headers, raw);
    });
    const p = await startH2cProxy(proxyTo(() => origin.peer()));
    const s = h2connect(`http://127.0.0.1:${p.port}`);
    const first = await h2fetch(s, { ':path': '/refused-once' });
    expect(first.status).toBe(200);
    const rs = await Promise.all([1, 2, 3, 4].map((i) => h2fetch(s, { ':path': `/g${i}` })));
    expect(rs.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(origin.sessions.length).toBeGreaterThanOrEqual(2);
    expect(p.logs.some((l) => l.level === 'error')).toBe(false);
  });

  it('an upstream that restarted (stale pooled session) does not break the proxy', async () => {
    const origin = await startH2Origin(echoH2);
    const p = await startH2cProxy(proxyTo(() => origin.peer()));
    const s = h2connect(`http://127.0.0.1:${p.port}`);
    expect((await h2fetch(s, { ':path': '/1' })).status).toBe(200);
    for (const sess of origin.sessions) sess.destroy();
    const r = await h2fetch(s, { ':path': '/2' });
    expect(r.status).toBe(200);
    expect(origin.sessions.length).toBe(2);
  });

  it('an upstream reset mid-body resets the downstream stream instead of ending it cleanly', async () => {
    let clientHasPartial!: () => void;
    const partialArrived = new Promise<void>((r) => (clientHasPartial = r));
    let streams = 0;
    const origin = await startH2Origin((stream, headers, raw) => {
      if (++streams > 1) return echoH2(stream, headers, raw);
      stream.respond({ ':status': 200 });
      stream.write('partial');
      // Reset only once the partial body has reached the client, so the reset is mid-body
      // however slow the machine. destroy(), not close(): close() would end the stream cleanly
      // before resetting it.
      void partialArrived.then(() => stream.destroy(new Error('origin failure')));
    });
    const p = await startH2cProxy(proxyTo(() => origin.peer()));
    const s = h2connect(`http://127.0.0.1:${p.port}`);
    const req = s.request({ ':path': '/' });
    req.on('error', () => {}); // the reset is the expected outcome
    let status = 0;
    req.on('response', (h) => (status = Number(h[':status'])));
    req.once('data', () => clientHasPartial());
    await new Promise((r) => req.on('close', r));
    expect(status).toBe(200);
    expect(req.rstCode).not.toBe(0);
    expect((await h2fetch(s, { ':path': '/' })).status).toBe(200);
  });

  it('an unreachable upstream answers 502 on the stream; the h2 connection stays usable', async () => {
    const origin = await startH2Origin(echoH2);
    const p = await startH2cProxy({
      upstreamPeer: (session) => {
        if (session.reqHeader().path() !== '/down') return origin.peer();
        const dead = new HttpPeer('127.0.0.1:1', false, '');
        dead.options.alpn = 'h2';
        return dead;
      },
    });
    const s = h2connect(`http://127.0.0.1:${p.port}`);
    expect((await h2fetch(s, { ':path': '/down' })).status).toBe(502);
    expect((await h2fetch(s, { ':path': '/up' })).status).toBe(200);
  });

  it('backpressure end to end: a client that stops reading holds an h2 origin to a few windows', async () => {
    const total = 4 * 1024 * 1024;
    let written = 0;
    const origin = await startH2Origin((stream) => {
      stream.respond({ ':status': 200 });
      const chunk = Buffer.alloc(16_384, 0x62);
      const pump = () => {
        while (written < total) {
          written += chunk.length;
          if (!stream.write(chunk)) {
            stream.once('drain', pump);
            return;
          }
        }
        stream.end();
      };
      pump();
    });
    const p = await startH2cProxy(proxyTo(() => origin.peer()));
    const s = h2connect(`http://127.0.0.1:${p.port}`);
    const req = s.request({ ':path': '/big' });
    req.on('error', () => {});
    await once(req, 'response');
    // Not reading: the origin must stall far below the 4 MiB body.
    await waitForStall(() => written, 'the h2 origin to stop writing');
    expect(written).toBeLessThan(1024 * 1024);
    let received = 0;
    req.on('data', (c: Buffer) => (received += c.length));
    const ended = once(req, 'end');
    req.resume();
    await ended;
    expect(received).toBe(total);
  });

  it('HEAD and 204 answers over h2 carry no body', async () => {
    const origin = await startOrigin((req, res) => {
      if (req.url === '/empty') {
        res.writeHead(204);
        res.end();
      } else {
        res.writeHead(200, { 'Content-Length': '5' });
        res.end(req.method === 'HEAD' ? undefined : 'hello');
      }
    });
    const p = await startH2cProxy(proxyTo(() => origin.peer()));
    const s = h2connect(`http://127.0.0.1:${p.port}`);
    const head = await h2fetch(s, { ':method': 'HEAD', ':path': '/' });
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe('5');
    expect(head.body.length).toBe(0);
    const empty = await h2fetch(s, { ':path': '/empty' });
    expect(empty.status).toBe(204);
    expect(empty.rstCode).toBe(0);
    const h1 = await request(`http://127.0.0.1:${p.port}/`);
    expect(h1.body).toBe('hello');
  });
});
