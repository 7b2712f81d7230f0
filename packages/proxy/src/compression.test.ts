import { execFile } from 'node:child_process';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { promisify } from 'node:util';
import zlib, { brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import { type HttpPeer, type ResponseCompression, ResponseCompressionBuilder } from '@pingora-ts/core';
import { mulberry32 } from '@pingora-ts/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { h2connect, h2fetch, startH2cProxy } from '../test/h2.js';
import { closeAll, startOrigin, startProxy, waitFor, waitForStall } from '../test/helpers.js';

afterEach(closeAll);

const run = promisify(execFile);

const TEXT = Array.from({ length: 400 }, (_, i) => `line ${i}: the quick brown fox\n`).join('');

/** An origin serving TEXT as text/plain with a length and a strong ETag. */
async function textOrigin() {
  return startOrigin((_req, res) => {
    res.writeHead(200, {
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Length': String(Buffer.byteLength(TEXT)),
      ETag: '"v1"',
    });
    res.end(TEXT);
  });
}

/** A proxy compressing at level 6 for every request. */
async function compressingProxy(peer: () => HttpPeer) {
  return startProxy({
    initDownstreamModules: (modules) => modules.addModule(ResponseCompressionBuilder.enable(6)),
    upstreamPeer: peer,
  });
}

function curlHeaders(out: string): Record<string, string> {
  const h: Record<string, string> = {};
  for (const line of out.split('\r\n').slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) h[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  return h;
}

describe('response compression through the proxy', () => {
  it('keeps serving on reused connections after a body the compressor had to pause for', async () => {
    // 256 KB arrives faster than zlib takes it, so the proxy pauses the upstream for the last
    // chunk; the pooled connection must come back readable for the next request.
    const big = Buffer.from(TEXT.repeat(24));
    const origin = await startOrigin((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': String(big.length) });
      res.end(big);
    });
    const p = await compressingProxy(() => origin.peer());
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let i = 0; i < 4; i++) {
        const body = await new Promise<Buffer>((resolve, reject) => {
          const req = http.get(p.url('/'), { agent, headers: { 'Accept-Encoding': 'gzip' } }, (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve(Buffer.concat(chunks)));
          });
          // Far below the upstream read timeout a stuck connection would wait for.
          req.setTimeout(20_000, () => req.destroy(new Error(`request ${i + 1} stalled`)));
          req.on('error', reject);
        });
        expect(gunzipSync(body).equals(big)).toBe(true);
      }
      expect(origin.connections).toBe(1);
    } finally {
      agent.destroy();
    }
  });

  it('a streamed response reaches the client chunk by chunk, compressed (server-sent events)', async () => {
    let release: (() => void) | undefined;
    const origin = await startOrigin((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.write('data: one\n\n');
      release = () => res.end('data: two\n\n');
    });
    const p = await compressingProxy(() => origin.peer());
    let decoded = '';
    let encoding: string | undefined;
    const ended = new Promise<void>((resolve, reject) => {
      http
        .get(p.url('/'), { headers: { 'Accept-Encoding': 'gzip' } }, (res) => {
          encoding = res.headers['content-encoding'];
          const gunzip = zlib.createGunzip();
          gunzip.on('data', (c: Buffer) => (decoded += c.toString()));
          gunzip.on('end', resolve);
          gunzip.on('error', reject);
          res.pipe(gunzip);
        })
        .on('error', reject);
    });
    // The first event decodes while the origin still holds the response open.
    await waitFor(() => decoded === 'data: one\n\n', { message: 'first event never arrived' });
    expect(encoding).toBe('gzip');
    release!();
    await ended;
    expect(decoded).toBe('data: one\n\ndata: two\n\n');
  });

  it('curl --compressed gets gzip and br, decoded to the origin body', async () => {
    const origin = await textOrigin();
    const p = await compressingProxy(() => origin.peer());
    for (const coding of ['gzip', 'br']) {
      // Headers, a blank line, then the decoded body.
      const { stdout } = await run('curl', [
        '-sS',
        '--compressed',
        '-H',
        `Accept-Encoding: ${coding}`,
        '-D',
        '-',
        p.url('/'),
      ]);
      const split = stdout.indexOf('\r\n\r\n');
      expect(stdout.slice(split + 4)).toBe(TEXT);
      const h = curlHeaders(stdout.slice(0, split));
      expect(h['content-encoding']).toBe(coding);
      expect(h['content-length']).toBeUndefined();
      expect(h.vary).toMatch(/accept-encoding/i);
      // The body changed, so a strong validator would lie: it is weakened.
      expect(h.etag).toBe('W/"v1"');
    }
  });

  it('node:zlib decodes what node:http receives; a client without Accept-Encoding gets the body as is', async () => {
    const origin = await textOrigin();
    const p = await compressingProxy(() => origin.peer());
    const gz = await requestBuffer(p.url('/'), { 'accept-encoding': 'gzip' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.body).toString()).toBe(TEXT);
    expect(gz.body.length).toBeLessThan(Buffer.byteLength(TEXT) / 4);
    const br = await requestBuffer(p.url('/'), { 'accept-encoding': 'br;q=1, gzip;q=0.5' });
    expect(br.headers['content-encoding']).toBe('br');
    expect(brotliDecompressSync(br.body).toString()).toBe(TEXT);
    const plain = await requestBuffer(p.url('/'), {});
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.headers['content-length']).toBe(String(Buffer.byteLength(TEXT)));
    expect(plain.headers.etag).toBe('"v1"');
    expect(plain.headers.vary).toMatch(/accept-encoding/i);
    expect(plain.body.toString()).toBe(TEXT);
    // Each compressed response gave its upstream connection back to the pool.
    expect(origin.connections).toBe(1);
  });

  it('compresses for an HTTP/2 client', async () => {
    const origin = await textOrigin();
    const p = await startH2cProxy({
      initDownstreamModules: (modules) => modules.addModule(ResponseCompressionBuilder.enable(6)),
      upstreamPeer: () => origin.peer(),
    });
    const s = h2connect(`http://127.0.0.1:${p.port}`);
    const r = await h2fetch(s, { ':path': '/', ':authority': 'a', 'accept-encoding': 'gzip' });
    expect(r.status).toBe(200);
    expect(r.headers['content-encoding']).toBe('gzip');
    expect(r.headers['content-length']).toBeUndefined();
    expect(gunzipSync(r.body).toString()).toBe(TEXT);
  });

  it('turns on per request with session.downstreamCompression (the default module is disabled)', async () => {
    const origin = await textOrigin();
    const p = await startProxy({
      requestFilter(session) {
        if (session.reqHeader().uri === '/z') session.downstreamCompression!.adjustLevel(1);
        return false;
      },
      upstreamPeer: () => origin.peer(),
    });
    const on = await requestBuffer(p.url('/z'), { 'accept-encoding': 'gzip' });
    expect(on.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(on.body).toString()).toBe(TEXT);
    const off = await requestBuffer(p.url('/'), { 'accept-encoding': 'gzip' });
    expect(off.headers['content-encoding']).toBeUndefined();
    expect(off.body.toString()).toBe(TEXT);
  });

  it('decompresses a gzip origin for a client that does not accept gzip', async () => {
    const zipped = gzipSync(TEXT);
    const origin = await startOrigin((_req, res) => {
      res.writeHead(200, {
        'Content-Type': 'text/plain',
        'Content-Encoding': 'gzip',
        'Content-Length': zipped.length,
      });
      res.end(zipped);
    });
    const p = await startProxy({
      initDownstreamModules: (modules) =>
        modules.addModule(new ResponseCompressionBuilder({ decompress: true })),
      upstreamPeer: () => origin.peer(),
    });
    const plain = await requestBuffer(p.url('/'), {});
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.headers['content-length']).toBeUndefined();
    expect(plain.body.toString()).toBe(TEXT);
    const asIs = await requestBuffer(p.url('/'), { 'accept-encoding': 'gzip' });
    expect(asIs.headers['content-encoding']).toBe('gzip');
    expect(asIs.body.equals(zipped)).toBe(true);
  });

  it('session.upstreamCompression decompresses before upstreamResponseBodyFilter', async () => {
    const zipped = gzipSync(TEXT);
    const origin = await startOrigin((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Encoding': 'gzip' });
      res.write(zipped.subarray(0, 100));
      res.end(zipped.subarray(100));
    });
    let seenByFilter = '';
    let encodingSeen: string | undefined = 'unset';
    const p = await startProxy({
      initDownstreamModules() {},
      requestFilter(session) {
        session.upstreamCompression.adjustDecompression(true);
        return false;
      },
      upstreamRequestFilter: (_s, up) => void up.removeHeader('accept-encoding'),
      upstreamResponseFilter(_s, resp) {
        encodingSeen = resp.headers.get('content-encoding');
      },
      upstreamResponseBodyFilter(_s, body) {
        if (body !== undefined) seenByFilter += body.toString();
        return undefined;
      },
      upstreamPeer: () => origin.peer(),
    });
    const r = await requestBuffer(p.url('/'), { 'accept-encoding': 'gzip' });
    expect(encodingSeen).toBeUndefined();
    expect(seenByFilter).toBe(TEXT);
    expect(r.headers['content-encoding']).toBeUndefined();
    expect(r.body.toString()).toBe(TEXT);
  });
});

describe('compression under backpressure and aborts', () => {
  it('a slow client stops the origin: the compressor does not buffer the body', async () => {
    // Random bytes do not shrink, so the compressed stream is as large as the body.
    const rand = mulberry32(7);
    const chunk = Buffer.alloc(64 * 1024);
    for (let i = 0; i < chunk.length; i++) chunk[i] = Math.floor(rand() * 256);
    let written = 0;
    let blocked = false;
    const origin = await startOrigin((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
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
    let compression: ResponseCompression | undefined;
    const p = await startProxy({
      initDownstreamModules: (modules) => modules.addModule(ResponseCompressionBuilder.enable(6)),
      requestFilter(session) {
        compression = session.downstreamCompression;
        return false;
      },
      upstreamPeer: () => origin.peer(),
    });
    const client = net.connect(p.port, '127.0.0.1');
    client.on('error', () => {});
    client.write('GET / HTTP/1.1\r\nHost: a\r\nAccept-Encoding: gzip\r\n\r\n');
    client.pause();
    await waitFor(() => blocked, { message: 'the origin to see backpressure' });
    // The fixed point of working backpressure: the compressor's output is paused (the client's
    // socket is full) and the origin no longer moves. Compression runs on libuv's thread pool, so
    // "no progress for a while" alone would prove nothing; the paused compressor is the proof.
    let last = -1;
    await waitFor(
      async () => {
        await waitForStall(() => written, 'the origin to stop writing');
        const stream = compression?.responseBodyStream();
        const stalled = stream?.isPaused() === true && written === last;
        last = written;
        return stalled;
      },
      { message: 'the compressor to be paused with the origin blocked' },
    );
    expect(compression!.getInfo().action).toBe('compress');
    expect(written).toBeLessThan(32 * 1024 * 1024);
    client.destroy();
  });

  it('a client gone mid-body: the zlib stream is destroyed and the upstream connection is not pooled', async () => {
    let upstreamClosed = false;
    let originRequests = 0;
    const origin = await startOrigin((req, res) => {
      originRequests++;
      req.socket.on('close', () => (upstreamClosed = true));
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.write(TEXT); // and never ends
    });
    let stream: Duplex | undefined;
    let logged = false;
    const p = await startProxy({
      initDownstreamModules: (modules) => modules.addModule(ResponseCompressionBuilder.enable(6)),
      upstreamPeer: () => origin.peer(),
      logging(session) {
        stream = session.downstreamCompression?.responseBodyStream();
        logged = true;
      },
    });
    const client = net.connect(p.port, '127.0.0.1');
    client.on('error', () => {});
    let got = '';
    client.on('data', (d) => (got += d.toString('latin1')));
    client.write('GET / HTTP/1.1\r\nHost: a\r\nAccept-Encoding: gzip\r\n\r\n');
    await waitFor(() => /content-encoding: gzip/i.test(got));
    client.destroy();
    await waitFor(() => logged);
    expect(stream).toBeDefined();
    expect(stream!.destroyed).toBe(true);
    await waitFor(() => upstreamClosed);
    expect(originRequests).toBe(1);
  });
});

describe('compression and HTTP/2 cancels', () => {
  it('an h2 client that cancels mid-body frees the zlib stream and the upstream connection', async () => {
    let upstreamClosed = false;
    const origin = await startOrigin((req, res) => {
      req.socket.on('close', () => (upstreamClosed = true));
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.write(TEXT); // and never ends
    });
    let stream: Duplex | undefined;
    let logged = false;
    const p = await startH2cProxy({
      initDownstreamModules: (modules) => modules.addModule(ResponseCompressionBuilder.enable(6)),
      upstreamPeer: () => origin.peer(),
      logging(session) {
        stream = session.downstreamCompression?.responseBodyStream();
        logged = true;
      },
    });
    const s = h2connect(`http://127.0.0.1:${p.port}`);
    const req = s.request({ ':path': '/', ':authority': 'a', 'accept-encoding': 'gzip' });
    req.on('error', () => {});
    let encoding: unknown;
    req.on('response', (h) => (encoding = h['content-encoding']));
    await waitFor(() => encoding !== undefined);
    expect(encoding).toBe('gzip');
    req.close(http2.constants.NGHTTP2_CANCEL);
    await waitFor(() => logged);
    expect(stream?.destroyed).toBe(true);
    await waitFor(() => upstreamClosed);
  });
});

function requestBuffer(
  url: string,
  headers: Record<string, string>,
): Promise<{ headers: import('node:http').IncomingHttpHeaders; body: Buffer }> {
  return import('node:http').then(
    (http) =>
      new Promise((resolve, reject) => {
        http
          .get(url, { agent: false, headers }, (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
            res.on('error', reject);
          })
          .on('error', reject);
      }),
  );
}
