/**
 * The harness of the first half of the Pingora cache test port (src/pingora-cache.test.ts and
 * src/pingora-cache-lock.test.ts): a fresh origin and proxy per test, a clock the tests move
 * forward instead of sleeping out a TTL, and a client that resolves at the response head.
 */
import http from 'node:http';
import { CacheKey } from '@pingora-ts/cache';
import { closeAll } from '@pingora-ts/test-utils';
import { afterEach, beforeEach, vi } from 'vitest';
import { type CacheOrigin, startCacheOrigin } from './pingora-cache-origin.js';
import { type CacheProxy, startCacheProxy } from './pingora-cache-proxy.js';

/** This test's origin (a live binding: a new one before each test). */
export let origin: CacheOrigin;
/** This test's proxy (a live binding: a new one before each test). */
export let proxy: CacheProxy;
// How far `Date.now()` runs ahead of the real clock (ms).
let skew = 0;

/**
 * Gives each test of the calling file a fresh origin and proxy, and a frozen clock that only
 * {@link letExpire} moves.
 */
export function useCacheHarness(): void {
  beforeEach(async () => {
    skew = 0;
    // Frozen: an asset goes stale when a test says so, never because a loaded machine was slow.
    const base = Date.now();
    vi.spyOn(Date, 'now').mockImplementation(() => base + skew);
    origin = await startCacheOrigin();
    proxy = await startCacheProxy(origin);
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await closeAll();
  });
}

/** Ages every cached asset by `ms` (Pingora's `sleep(1100)` for a TTL of 1 s). */
export const letExpire = (ms = 1100) => {
  skew += ms;
};

export interface Head {
  status: number;
  httpVersion: string;
  headers: http.IncomingHttpHeaders;
  /** Header lines as sent, names and values alternating. */
  raw: string[];
  /** The body; rejects when the connection ends before the body did. */
  body: Promise<Buffer>;
}

/** Sends a request; resolves at the response head, the body follows in `body`. */
export function send(path: string, headers: http.OutgoingHttpHeaders = {}, method = 'GET'): Promise<Head> {
  return new Promise((resolve, reject) => {
    const req = http.request(proxy.url(path), { agent: false, method, headers }, (res) => {
      const body = new Promise<Buffer>((ok, fail) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => ok(Buffer.concat(chunks)));
        res.on('error', fail);
        res.on('close', () => {
          if (!res.complete) fail(new Error('response body cut short'));
        });
      });
      body.catch(() => undefined);
      resolve({
        status: res.statusCode!,
        httpVersion: res.httpVersion,
        headers: res.headers,
        raw: res.rawHeaders,
        body,
      });
    });
    req.on('error', reject);
    req.end();
  });
}

export interface Full extends Omit<Head, 'body'> {
  text: string;
  bytes: Buffer;
}

/** Sends a request and reads the whole response. */
export async function get(
  path: string,
  headers: http.OutgoingHttpHeaders = {},
  method = 'GET',
): Promise<Full> {
  const r = await send(path, headers, method);
  const bytes = await r.body;
  return { ...r, bytes, text: bytes.toString() };
}

export const epoch = (r: { headers: http.IncomingHttpHeaders }) => Number(r.headers['x-epoch']);
export const status = (r: { headers: http.IncomingHttpHeaders }) => r.headers['x-cache-status'];
/** The values of every `name` line, in order. */
export function values(r: { raw: string[] }, name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < r.raw.length; i += 2) if (r.raw[i]!.toLowerCase() === name) out.push(r.raw[i + 1]!);
  return out;
}

/** Whether the proxy's storage holds a fresh asset for `path`. */
export async function freshInStorage(path: string): Promise<boolean> {
  const key = new CacheKey('', `127.0.0.1:${proxy.port}${path}`);
  const found = await proxy.storage.lookup(key.toCompact());
  if (found === undefined) return false;
  await found.hit.finish();
  return found.meta.isFresh(Date.now());
}
