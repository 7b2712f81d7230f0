/**
 * The origin of the cache port tests: a node server with the locations Pingora's cache integration
 * tests ask their OpenResty origin for, so the ported cases send the same requests and see the
 * same answers. One handler serves HTTP/1.1 and an h2c (prior knowledge) listener.
 *
 * `/unique/<anything>/<rest>` serves `<rest>`: the prefix only makes the cache key unique. Every
 * request is counted under its full path (prefix included, query excluded): `origin.count(path)`;
 * `origin.requests(path)` keeps the request headers each one arrived with.
 *
 * Locations (request headers steer them, as the OpenResty ones):
 * - `/`, `/index.html`: `Hello World!\n`. `/test2`: `hello world` with a length; `/test3`: the
 *   same, chunked.
 * - `/now`: `hello world` and `x-epoch` (seconds, strictly increasing across responses).
 * - `/revalidate_now`: `/now` plus a fixed ETag `"abcd"` and Last-Modified; any conditional
 *   request gets a 304.
 * - `/cache_control`: `hello world`; `set-cache-control` (each value becomes a Cache-Control
 *   line), `set-cache-tag` → Cache-Tag, `set-revalidated` → 304.
 * - `/vary`: as `/revalidate_now`; `set-vary` → Vary; `x-no-revalidate` answers 200 even when
 *   conditional.
 * - `/no_if_headers`: 400 when If-Modified-Since, If-None-Match or Range reached the origin, else
 *   `no if headers detected\n` (chunked).
 * - `/no_compression`: 32 × `B`; `/file_maker`: `x-set-size` × `A` (default 1024); both chunked.
 * - `/gzip/index.html`: `Hello World!\n`, gzip-encoded (chunked, weak ETag) when Accept-Encoding
 *   allows it; `received-accept-encoding` echoes what arrived; conditional requests get a 304.
 * - `/sleep`: waits `x-set-sleep` s (default 1) before the head; `x-abort` then drops the
 *   connection, `x-error-header` answers an empty 500; else `hello ` now and `world` after
 *   `x-set-body-sleep` s (default 0), chunked unless `x-set-content-length`; `x-abort-body` drops
 *   the connection between the two. `x-no-store` → `Cache-Control: no-store`,
 *   `x-no-stale-revalidate` → `Cache-Control: stale-while-revalidate=0`.
 * - `/slow_body`: the head now, then `hello `, `x-set-hello` (default `world`) and `!`, each after
 *   `x-set-sleep` s (default 1); `x-no-store` as above.
 * - `/set_content_length`: `hello world` with Content-Length `x-set-content-length` if given.
 * - `/download/`: 4 MiB of `A` with a length (`x-download-size` overrides the size).
 * - `/upgrade`: a 101 (websocket) carrying `hello\n` (HTTP/1.1 only).
 */
import { gzipSync } from 'node:zlib';
import http from 'node:http';
import http2 from 'node:http2';
import type net from 'node:net';
import { onClose } from '@pingora-ts/test-utils';

/** A running {@link startCacheOrigin}. */
export interface CacheOrigin {
  /** HTTP/1.1 listener on 127.0.0.1. */
  port: number;
  /** h2c (prior knowledge) listener on 127.0.0.1, same locations. */
  h2cPort: number;
  /** Requests that reached `path` (the full path as sent, `/unique/…` prefix included, no query). */
  count(path: string): number;
  /** The request headers of every request that reached `path`, oldest first. */
  requests(path: string): http.IncomingHttpHeaders[];
  /** Requests that reached the origin, all paths. */
  total(): number;
}

type Req = http.IncomingMessage | http2.Http2ServerRequest;
/** What the locations use of a response, common to the HTTP/1.1 and HTTP/2 ones. */
interface Res {
  writeHead(status: number, headers: http.OutgoingHttpHeaders): unknown;
  write(chunk: string | Buffer): boolean;
  end(chunk?: string | Buffer): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  readonly destroyed: boolean;
}

/** The fixed validators of `/revalidate_now`, `/vary` and `/gzip/`. */
export const LAST_MODIFIED = 'Tue, 03 May 2022 01:04:39 GMT';
export const ETAG = '"abcd"';
const GZIP_BODY = 'Hello World!\n';
const GZIPPED = gzipSync(GZIP_BODY);

const MB = 1 << 20;

const seconds = (v: string | string[] | undefined, dflt: number): number => {
  const n = Number(Array.isArray(v) ? v[0] : v);
  return v === undefined || Number.isNaN(n) ? dflt : n;
};

const sleep = (s: number): Promise<void> =>
  s <= 0 ? Promise.resolve() : new Promise((r) => setTimeout(r, s * 1000));

const conditional = (req: Req) =>
  req.headers['if-modified-since'] !== undefined || req.headers['if-none-match'] !== undefined;

/** Every value of a request header, one per line it arrived on. */
function distinct(req: Req, name: string): string[] {
  const v = (req as http.IncomingMessage).headersDistinct?.[name];
  if (v !== undefined) return v;
  const one = req.headers[name];
  return one === undefined ? [] : Array.isArray(one) ? one : [one];
}

/** nginx's 444: the connection goes without an answer (on h2, the stream is reset). */
function drop(req: Req, res: Res): void {
  if (req.httpVersionMajor === 2) {
    (res as unknown as http2.Http2ServerResponse).stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
  } else {
    (req.socket as net.Socket).destroy();
  }
}

function reply(
  res: Res,
  status: number,
  body: string | Buffer,
  headers: Record<string, string | string[]> = {},
): void {
  const b = Buffer.from(body);
  const withLength = status === 304 ? headers : { 'Content-Length': String(b.length), ...headers };
  res.writeHead(status, { 'Content-Type': 'text/plain', ...withLength });
  res.end(status === 304 ? undefined : b);
}

/** Writes the head now and the body in chunks (no Content-Length: chunked on HTTP/1.1). */
function chunked(res: Res, status: number, headers: Record<string, string | string[]> = {}): void {
  res.writeHead(status, { 'Content-Type': 'text/plain', ...headers });
  // Flush the head so the client sees it before any body.
  (res as Partial<http.ServerResponse>).flushHeaders?.();
}

class Epoch {
  #last = 0;
  /** Seconds since the epoch with ms precision, never equal to an earlier one. */
  next(): string {
    const now = Math.max(Date.now(), this.#last + 1);
    this.#last = now;
    return (now / 1000).toFixed(3);
  }
}

async function sleepLocation(req: Req, res: Res): Promise<void> {
  await sleep(seconds(req.headers['x-set-sleep'], 1));
  if (req.headers['x-abort'] !== undefined) return drop(req, res);
  if (req.headers['x-error-header'] !== undefined) return reply(res, 500, '');
  const headers: Record<string, string> = {};
  if (req.headers['x-no-store'] !== undefined) headers['Cache-Control'] = 'no-store';
  if (req.headers['x-no-stale-revalidate'] !== undefined)
    headers['Cache-Control'] = 'stale-while-revalidate=0';
  if (req.headers['x-set-content-length'] !== undefined) headers['Content-Length'] = '11';
  chunked(res, 200, headers);
  res.write('hello ');
  await sleep(seconds(req.headers['x-set-body-sleep'], 0));
  if (req.headers['x-abort-body'] !== undefined) return drop(req, res);
  res.end('world');
}

async function slowBody(req: Req, res: Res): Promise<void> {
  const pause = seconds(req.headers['x-set-sleep'], 1);
  const hello = distinct(req, 'x-set-hello')[0] ?? 'world';
  chunked(res, 200, req.headers['x-no-store'] !== undefined ? { 'Cache-Control': 'no-store' } : {});
  for (const part of ['hello ', hello, '!']) {
    await sleep(pause);
    if (res.destroyed) return;
    res.write(part);
  }
  res.end();
}

function gzip(req: Req, res: Res): void {
  const ae = distinct(req, 'accept-encoding').join(', ');
  const headers: Record<string, string> = { 'Last-Modified': LAST_MODIFIED, 'received-accept-encoding': ae };
  const gz = /\bgzip\b/.test(ae);
  // nginx weakens the ETag of what it compresses on the fly.
  headers.ETag = gz ? `W/${ETAG}` : ETAG;
  if (conditional(req)) reply(res, 304, '', headers);
  else if (!gz) reply(res, 200, GZIP_BODY, headers);
  else {
    // Compressed on the fly by nginx: no length, chunked.
    chunked(res, 200, { ...headers, 'Content-Encoding': 'gzip' });
    res.end(GZIPPED);
  }
}

/** The location handler; `path` is the path with any `/unique/<x>` prefix removed. */
function serve(path: string, req: Req, res: Res, epoch: Epoch): void | Promise<void> {
  const h = req.headers;
  if (path === '/' || path === '/index.html') return reply(res, 200, 'Hello World!\n');
  if (path === '/test2') return reply(res, 200, 'hello world');
  if (path === '/test3') {
    chunked(res, 200);
    res.end('hello world');
    return;
  }
  if (path === '/now') return reply(res, 200, 'hello world', { 'x-epoch': epoch.next() });
  if (path === '/revalidate_now' || path === '/vary') {
    const headers: Record<string, string | string[]> = {
      'x-epoch': epoch.next(),
      'Last-Modified': LAST_MODIFIED,
      ETag: ETAG,
    };
    const vary = distinct(req, 'set-vary');
    if (path === '/vary' && vary.length > 0) headers.Vary = vary;
    const noReval = path === '/vary' && h['x-no-revalidate'] !== undefined;
    return reply(res, conditional(req) && !noReval ? 304 : 200, 'hello world', headers);
  }
  if (path.startsWith('/cache_control')) {
    const headers: Record<string, string | string[]> = {};
    const cc = distinct(req, 'set-cache-control');
    if (cc.length > 0) headers['Cache-Control'] = cc;
    const tag = distinct(req, 'set-cache-tag');
    if (tag.length > 0) headers['Cache-Tag'] = tag;
    return reply(res, h['set-revalidated'] !== undefined ? 304 : 200, 'hello world', headers);
  }
  if (path === '/no_if_headers') {
    if (conditional(req) || h.range !== undefined) return reply(res, 400, '');
    chunked(res, 200);
    res.end('no if headers detected\n');
    return;
  }
  if (path === '/no_compression') {
    chunked(res, 200);
    res.end('B'.repeat(32));
    return;
  }
  if (path.startsWith('/file_maker')) {
    chunked(res, 200);
    res.end('A'.repeat(seconds(h['x-set-size'], 1024)));
    return;
  }
  if (path.startsWith('/gzip/')) return gzip(req, res);
  if (path.startsWith('/sleep')) return sleepLocation(req, res);
  if (path.startsWith('/slow_body')) return slowBody(req, res);
  if (path.startsWith('/set_content_length')) {
    const cl = distinct(req, 'x-set-content-length')[0];
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': cl ?? '11' });
    res.end('hello world');
    return;
  }
  if (path.startsWith('/download/')) {
    return reply(res, 200, Buffer.alloc(seconds(h['x-download-size'], 4 * MB), 'A'));
  }
  // ---- Added by pingora-cache-2.test.ts (append-only: the locations above are unchanged) ----
  if (path.startsWith('/held_slow_body')) return heldSlowBody(req, res);
  // ---- end of added locations ----
  return reply(res, 404, 'not found');
}

const UNIQUE = /^\/unique\/[^/]+(\/.*)$/;

async function listen(server: net.Server): Promise<number> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  onClose(
    () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  );
  return (server.address() as net.AddressInfo).port;
}

/** `/upgrade`: a 101 with a body, as the OpenResty location sends it. */
function upgrade(req: http.IncomingMessage, socket: net.Socket, count: (p: string) => void): void {
  socket.on('error', () => {});
  const full = (req.url ?? '/').split('?')[0]!;
  count(full);
  const path = UNIQUE.exec(full)?.[1] ?? full;
  if (path !== '/upgrade') {
    socket.destroy();
    return;
  }
  socket.write(
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nhello\n',
  );
}

/**
 * Starts the HTTP/1.1 and h2c listeners on 127.0.0.1:0; both close on `closeAll()`.
 *
 * @example
 * ```ts
 * const origin = await startCacheOrigin();
 * await request(`http://127.0.0.1:${origin.port}/unique/a/now`);
 * expect(origin.count('/unique/a/now')).toBe(1);
 * ```
 */
export async function startCacheOrigin(): Promise<CacheOrigin> {
  const seen = new Map<string, http.IncomingHttpHeaders[]>();
  let total = 0;
  const epoch = new Epoch();
  const record = (path: string, headers: http.IncomingHttpHeaders) => {
    total++;
    const list = seen.get(path) ?? [];
    list.push(headers);
    seen.set(path, list);
  };
  const handle = (req: Req, res: Res) => {
    const full = (req.url ?? '/').split('?')[0]!;
    record(full, { ...req.headers });
    res.on('error', () => {});
    req.resume();
    const path = UNIQUE.exec(full)?.[1] ?? full;
    void Promise.resolve(serve(path, req, res, epoch)).catch(() => drop(req, res));
  };
  const h1 = http.createServer((req, res) => handle(req, res));
  h1.on('upgrade', (req: http.IncomingMessage, socket: net.Socket) =>
    upgrade(req, socket, (p) => record(p, { ...req.headers })),
  );
  const h2c = http2.createServer((req, res) => handle(req, res as unknown as Res));
  return {
    port: await listen(h1),
    h2cPort: await listen(h2c),
    count: (path) => seen.get(path)?.length ?? 0,
    requests: (path) => seen.get(path) ?? [],
    total: () => total,
  };
}

// ---- Added by pingora-cache-2.test.ts (append-only) ----

/**
 * `/held_slow_body`: `/slow_body` as the OpenResty location really sends it. Its `ngx.flush()`
 * before any output sends nothing, so on HTTP/1.1 the head leaves together with `hello `, one
 * pause in: a request queued on the cache lock meanwhile waits that pause (Pingora's lock-time
 * assertions depend on it). `x-set-sleep`, `x-set-hello` and `x-no-store` as for `/slow_body`.
 */
async function heldSlowBody(req: Req, res: Res): Promise<void> {
  const pause = seconds(req.headers['x-set-sleep'], 1);
  const hello = distinct(req, 'x-set-hello')[0] ?? 'world';
  const cc: Record<string, string> =
    req.headers['x-no-store'] !== undefined ? { 'Cache-Control': 'no-store' } : {};
  // No flushHeaders: node sends the head with the first write.
  res.writeHead(200, { 'Content-Type': 'text/plain', ...cc });
  for (const part of ['hello ', hello, '!']) {
    await sleep(pause);
    if (res.destroyed) return;
    res.write(part);
  }
  res.end();
}
