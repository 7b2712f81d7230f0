/**
 * Clients and fixtures of the second half of the Pingora cache test port (see
 * src/pingora-cache-2.test.ts and src/pingora-cache-3.test.ts): requests with timings, clients that
 * leave or stall mid-response, HTTP/2 sessions, and the per-test origin and proxy.
 */
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import {
  CacheKey,
  CacheLock,
  type CacheMeta,
  LruEvictionManager,
  MemoryStorage,
  Predictor,
} from '@pingora-ts/cache';
import { onClose, waitFor } from '@pingora-ts/test-utils';
import { afterEach, beforeEach, expect, vi } from 'vitest';
import { startProxy } from './helpers.js';
import { type CacheOrigin, startCacheOrigin } from './pingora-cache-origin.js';
import {
  type CacheProxy,
  type CacheProxyOptions,
  exampleProxyCache,
  startCacheProxy,
} from './pingora-cache-proxy.js';

/** Origin pause (s) of the slow locations: long enough that the requests sent meanwhile queue. */
export const PAUSE = '0.4';
export const MB4 = 4 * 1024 * 1024;
export const HELLO = 'hello world';

export type Headers = Record<string, string | string[]>;

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** ms from sending to the response head, and to the end of the body. */
  headMs: number;
  totalMs: number;
}

/** Status, `x-cache-status` and body: what most of Pingora's assertions look at. */
export const sum = (r: { status: number; headers: Record<string, unknown>; body: string | Buffer }) => [
  r.status,
  r.headers['x-cache-status'],
  r.body.toString(),
];

/** One request on a new connection; rejects when the response breaks or stalls for `timeoutMs`. */
export function send(url: string, headers: Headers = {}, method = 'GET', timeoutMs = 15_000): Promise<Reply> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      const headMs = performance.now() - start;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('latin1');
        resolve({
          status: res.statusCode!,
          headers: res.headers,
          body,
          headMs,
          totalMs: performance.now() - start,
        });
      });
      res.on('error', reject);
      res.on('aborted', () => reject(new Error(`${url}: response aborted`)));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${url}: nothing received for ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Sends a request, takes the response head and leaves without the body. The connection is reset,
 * not closed: the proxy learns at once that the client is gone (a FIN could go unseen until the
 * proxy next writes), and Pingora's client, dropping a response with unread bytes, resets too.
 */
export function headThenLeave(url: string, headers: Headers): Promise<{ status: number; headers: Headers }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { headers, agent: false }, (res) => {
      resolve({ status: res.statusCode!, headers: res.headers as Headers });
      res.socket.resetAndDestroy();
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * Sends a request and closes its connection once the origin has it, before any head: Pingora's
 * client with a timeout shorter than the origin's pause.
 */
export async function leaveBeforeHead(origin: CacheOrigin, url: string, path: string, headers: Headers) {
  const req = http.request(url, { headers, agent: false });
  let answered = false;
  req.on('response', () => (answered = true));
  req.on('error', () => {});
  req.end();
  onClose(() => req.destroy());
  await waitFor(() => origin.count(path) === 1, { message: 'the request at the origin' });
  req.destroy();
  expect(answered).toBe(false);
}

/** The multipart/byteranges body Pingora's tests expect for `parts` ([range, bytes]) of `hello world`. */
export function multipart(boundary: string, parts: Array<[string, string]>): string {
  const part = ([range, bytes]: [string, string]) =>
    `\r\n--${boundary}\r\nContent-Type: text/plain\r\nContent-Range: bytes ${range}/11\r\n\r\n${bytes}`;
  return `${parts.map(part).join('')}\r\n--${boundary}--\r\n`;
}

/** The boundary of a multipart/byteranges Content-Type, after checking the type's form. */
export function boundaryOf(r: Reply): string {
  const ct = String(r.headers['content-type']);
  const boundary = ct.split('boundary=')[1];
  expect(boundary).toBeDefined();
  expect(ct).toBe(`multipart/byteranges; boundary=${boundary}`);
  return boundary!;
}

export async function setup(
  options: CacheProxyOptions = {},
): Promise<{ origin: CacheOrigin; proxy: CacheProxy }> {
  const origin = await startCacheOrigin();
  return { origin, proxy: await startCacheProxy(origin, options) };
}

/** The proxy of `startCacheProxy` (same fresh cache pieces), listening for h2c and HTTP/1.1. */
export async function setupH2c() {
  const origin = await startCacheOrigin();
  const parts = {
    storage: new MemoryStorage<CacheMeta>({
      eviction: new LruEvictionManager({ maxBytes: Number.MAX_SAFE_INTEGER }),
      freshUntil: (m) => m.freshUntil,
    }),
    eviction: new LruEvictionManager({ maxBytes: 8192 }),
    lock: new CacheLock({ ageTimeoutMs: 2000 }),
    predictor: new Predictor({ capacity: 5 }),
  };
  const proxy = await startProxy(exampleProxyCache(origin, parts), { serverOptions: { h2c: true } });
  return { origin, proxy };
}

/** An h2c session to `port`, destroyed after the test. */
export function h2session(port: number): http2.ClientHttp2Session {
  const s = http2.connect(`http://127.0.0.1:${port}`);
  s.on('error', () => {});
  onClose(() => s.destroy());
  return s;
}

export interface H2Reply {
  status: number;
  headers: http2.IncomingHttpHeaders;
  body: Buffer;
}

/** One request on `session`; resolves when the stream ends, rejects when it is reset. */
export function h2send(
  session: http2.ClientHttp2Session,
  headers: http2.OutgoingHttpHeaders,
): Promise<H2Reply> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers, { endStream: true });
    let got: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    stream.on('response', (h) => (got = h));
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('error', reject);
    stream.on('close', () => {
      if (stream.rstCode) reject(new Error(`stream reset with ${stream.rstCode}`));
      else resolve({ status: Number(got[':status']), headers: got, body: Buffer.concat(chunks) });
    });
  });
}

/**
 * A raw HTTP/1.1 client that sends `request`, reads until `bytes` of the response arrived, then
 * stops reading: the kernel buffers fill and the proxy's writes to it back up.
 */
export function stallingClient(port: number, request: string, bytes: number): Promise<void> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  onClose(() => socket.destroy());
  let got = 0;
  return new Promise((resolve, reject) => {
    socket.on('data', (c: Buffer) => {
      got += c.length;
      if (got < bytes) return;
      socket.pause();
      resolve();
    });
    socket.on('close', () => reject(new Error(`closed after ${got} bytes`)));
    socket.write(request);
  });
}

/** `p`, or a rejection naming `what` once `ms` pass without it settling (a cap, not a wait). */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const cap = new Promise<never>((_r, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: still blocked after ${ms} ms`)), ms);
  });
  return Promise.race([p, cap]).finally(() => clearTimeout(timer));
}

/** The freshness deadline (ms) of the asset stored for `path` (the proxy keys on host and path). */
export async function storedFreshUntil(proxy: CacheProxy, path: string): Promise<number> {
  const found = await proxy.storage.lookup(new CacheKey('', `127.0.0.1:${proxy.port}${path}`).toCompact());
  expect(found).toBeDefined();
  await found!.hit.finish();
  return found!.meta.freshUntil;
}

/** A GET with `set-vary: varyField` and `headers` (Pingora's `send_vary_req_with_headers`). */
export const sendVary = (url: string, varyField: string, headers: Headers) =>
  send(url, { ...headers, 'set-vary': varyField });

/** A GET with `x-cache-max-file-size-bytes` and an optional Range. */
export const sendMaxSize = (url: string, maxBytes: number, range?: string) =>
  send(url, {
    'x-cache-max-file-size-bytes': String(maxBytes),
    ...(range === undefined ? {} : { Range: range }),
  });

let skew = 0;

/**
 * Freezes `Date.now()` for each test of the calling file: a cached asset goes stale only when the
 * test moves the clock ({@link advanceClock}), never because a loaded machine was slow.
 */
export function useFrozenClock(): void {
  beforeEach(() => {
    skew = 0;
    const base = Date.now();
    vi.spyOn(Date, 'now').mockImplementation(() => base + skew);
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });
}

/** Moves the frozen clock `ms` forward. */
export function advanceClock(ms: number): void {
  skew += ms;
}
