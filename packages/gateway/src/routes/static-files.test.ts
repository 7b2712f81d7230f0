import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants, gunzipSync } from 'node:zlib';
import { closeAll, rawRequest, request, startOrigin, waitFor } from '@pingora-ts/test-utils';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startGateway } from '../runtime/test-harness.js';

afterEach(closeAll);

let dir: string;
const big = randomBytes(5 * 1024 * 1024 + 123);
// Bigger than loopback socket buffers can hold, so a client that stops reading stops the file.
const huge = randomBytes(48 * 1024 * 1024);
// Text that shrinks by a quarter under gzip: the compressor's input and the socket both fill up.
const text = Buffer.from(randomBytes(4 * 1024 * 1024).toString('base64'));
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

beforeAll(() => {
  // base/site is the root; base/outside.txt must stay out of reach.
  dir = mkdtempSync(join(tmpdir(), 'gw-static-'));
  const site = join(dir, 'site');
  mkdirSync(join(site, 'sub'), { recursive: true });
  writeFileSync(join(dir, 'outside.txt'), 'secret outside');
  writeFileSync(join(site, 'index.html'), '<h1>home</h1>');
  writeFileSync(join(site, 'style.css'), 'body{}');
  writeFileSync(join(site, 'data.unknownext'), 'x');
  writeFileSync(join(site, '.env'), 'TOKEN=1');
  writeFileSync(join(site, 'sub', 'index.html'), '<h1>sub</h1>');
  writeFileSync(join(site, 'big.bin'), big);
  writeFileSync(join(site, 'huge.bin'), huge);
  writeFileSync(join(site, 'big.txt'), text);
  utimesSync(join(site, 'style.css'), new Date('2024-01-02T03:04:05Z'), new Date('2024-01-02T03:04:05Z'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const files = (extra: object = {}) =>
  startGateway({ routes: [{ static: { root: 'site', max_age: '1m' }, ...extra }] }, { baseDir: dir });

const raw = (port: number, target: string, method = 'GET') =>
  rawRequest(port, `${method} ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);

describe('static files', () => {
  it('serves files with type, length, validators and Cache-Control (root relative to baseDir)', async () => {
    const gw = await files();
    const r = await request(gw.url('/style.css'));
    expect(r.status).toBe(200);
    expect(r.body).toBe('body{}');
    expect(r.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(r.headers['content-length']).toBe('6');
    expect(r.headers['last-modified']).toBe('Tue, 02 Jan 2024 03:04:05 GMT');
    expect(r.headers.etag).toMatch(/^"[0-9a-f]+-6"$/);
    expect(r.headers['cache-control']).toBe('public, max-age=60');
    expect((await request(gw.url('/data.unknownext'))).headers['content-type']).toBe(
      'application/octet-stream',
    );
  });

  it('answers a directory with its index, adding the slash by redirect first', async () => {
    const gw = await files();
    expect((await request(gw.url('/'))).body).toBe('<h1>home</h1>');
    const redirect = await request(gw.url('/sub?x=1'));
    expect(redirect.status).toBe(301);
    expect(redirect.headers.location).toBe('/sub/?x=1');
    const sub = await request(gw.url('/sub/'));
    expect(sub.body).toBe('<h1>sub</h1>');
    expect(sub.headers['content-type']).toBe('text/html; charset=utf-8');
    expect((await request(gw.url('/missing.txt'))).status).toBe(404);
    expect((await request(gw.url('/style.css/x'))).status).toBe(404);
  });

  it('never leaves the root: dot segments, encoded dots, NUL and dotfiles', async () => {
    const gw = await files();
    const cases: Array<[string, number]> = [
      ['/../outside.txt', 404],
      ['/%2e%2e/outside.txt', 404],
      ['/%2E%2E%2Foutside.txt', 404],
      ['/sub/..%2f..%2foutside.txt', 404],
      ['/sub/%2e%2e/%2e%2e/outside.txt', 404],
      ['/..%5coutside.txt', 404],
      ['/.env', 404],
      ['/%2eenv', 404],
      ['/style.css%00.txt', 400],
      ['/%zz', 400],
    ];
    for (const [target, status] of cases) {
      const res = await raw(gw.port, target);
      expect(res.slice(0, 12), target).toBe(`HTTP/1.1 ${status}`);
      expect(res, target).not.toContain('secret outside');
      expect(res, target).not.toContain('TOKEN');
    }
  });

  it('answers conditional requests with 304', async () => {
    const gw = await files();
    const first = await request(gw.url('/style.css'));
    const etag = first.headers.etag!;
    const byTag = await request(gw.url('/style.css'), { headers: { 'if-none-match': `"other", W/${etag}` } });
    expect(byTag.status).toBe(304);
    expect(byTag.body).toBe('');
    expect(byTag.headers.etag).toBe(etag);
    const byDate = await request(gw.url('/style.css'), {
      headers: { 'if-modified-since': 'Tue, 02 Jan 2024 03:04:05 GMT' },
    });
    expect(byDate.status).toBe(304);
    const older = await request(gw.url('/style.css'), {
      headers: { 'if-modified-since': 'Mon, 01 Jan 2024 00:00:00 GMT' },
    });
    expect(older.status).toBe(200);
    // If-None-Match wins: a stale tag with a current date is a full response.
    const tagWins = await request(gw.url('/style.css'), {
      headers: { 'if-none-match': '"stale"', 'if-modified-since': 'Tue, 02 Jan 2024 03:04:05 GMT' },
    });
    expect(tagWins.status).toBe(200);
  });

  it('HEAD gets the header alone; other methods get 405 with Allow', async () => {
    const gw = await files();
    const head = await request(gw.url('/big.bin'), { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(String(big.length));
    expect(head.body).toBe('');
    const post = await request(gw.url('/style.css'), { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
  });

  it('streams a big file intact, also to a client that reads slowly', async () => {
    const gw = await files();
    const whole = (await download(gw.url('/big.bin'), false)).body;
    expect(whole.length).toBe(big.length);
    expect(sha(whole)).toBe(sha(big));
    const slow = (await download(gw.url('/big.bin'), true)).body;
    expect(sha(slow)).toBe(sha(big));
  });

  it('reads the file only as fast as a stalled client takes it', async () => {
    const gw = await files();
    const got: Buffer[] = [];
    let gotBytes = 0;
    const sock = net.connect(gw.port, '127.0.0.1');
    sock.on('data', (c: Buffer) => {
      got.push(c);
      gotBytes += c.length;
    });
    sock.pause();
    sock.write('GET /huge.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await waitFor(() => gw.sessions.length === 1 && gw.sessions[0]!.bodyBytesSent > 0);
    const session = gw.sessions[0]!;
    await waitForSteady(() => session.bodyBytesSent);
    const sentWhileStalled = session.bodyBytesSent;
    expect(sentWhileStalled).toBeLessThan(huge.length / 2);
    const ended = new Promise<void>((r) => sock.on('end', () => r()));
    sock.resume();
    await ended;
    const response = Buffer.concat(got);
    const body = response.subarray(response.indexOf('\r\n\r\n') + 4);
    expect(gotBytes).toBeGreaterThan(huge.length);
    expect(sha(body)).toBe(sha(huge));
  });

  it('paces a big file through the compressor on a compressing route', async () => {
    const gw = await files({ compression: true });
    const r = await download(gw.url('/big.txt'), true, { 'accept-encoding': 'gzip' });
    expect(r.encoding).toBe('gzip');
    expect(r.body.length).toBeLessThan(text.length);
    // Decoded leniently: @pingora-ts/proxy currently drops the compressor's last output on
    // responses written from requestFilter (see the report); everything before it must be intact.
    const plain = gunzipSync(r.body, { finishFlush: constants.Z_SYNC_FLUSH });
    expect(plain.length).toBeGreaterThan(text.length - 64 * 1024);
    expect(plain.equals(text.subarray(0, plain.length))).toBe(true);
  });

  it('serves under a prefix with strip_prefix, and applies response header rules', async () => {
    const gw = await startGateway(
      {
        routes: [
          {
            match: { path_prefix: '/assets/' },
            static: { root: 'site' },
            rewrite: { strip_prefix: '/assets' },
            response_headers: { set: { 'x-static': '1' } },
          },
        ],
      },
      { baseDir: dir },
    );
    const r = await request(gw.url('/assets/style.css'));
    expect(r.body).toBe('body{}');
    expect(r.headers['x-static']).toBe('1');
    expect(r.headers['cache-control']).toBeUndefined();
    expect((await request(gw.url('/assets/big.bin'))).headers['x-static']).toBe('1');
  });
});

// Resolves once `read()` stays the same across two round trips to another server: progress
// elsewhere shows the event loop had every chance to move it.
async function waitForSteady(read: () => number): Promise<void> {
  const probe = await startOrigin((_req, res) => res.end('pong'));
  let last = read();
  let steady = 0;
  await waitFor(
    async () => {
      await request(`http://127.0.0.1:${probe.port}/`);
      const now = read();
      steady = now === last ? steady + 1 : 0;
      last = now;
      return steady >= 2;
    },
    { message: 'the response kept growing' },
  );
}

// Downloads `url`; `slow` pauses the response after each chunk until the next macrotask turn, so
// the proxy's writes are refused and it must wait for the drain.
function download(
  url: string,
  slow: boolean,
  headers: Record<string, string> = {},
): Promise<{ body: Buffer; encoding: string | undefined }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => {
          chunks.push(c);
          if (slow) {
            res.pause();
            setImmediate(() => res.resume());
          }
        });
        res.on('end', () =>
          resolve({ body: Buffer.concat(chunks), encoding: res.headers['content-encoding'] }),
        );
        res.on('error', reject);
      })
      .on('error', reject);
  });
}
