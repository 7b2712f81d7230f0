/**
 * Pingora's cache integration tests (`mod test_cache` in pingora-proxy/tests/test_upstream.rs),
 * first half, ported: the same requests to Pingora's cache test proxy (test/pingora-cache-proxy.ts)
 * in front of an origin with the same locations (test/pingora-cache-origin.ts). Each `it` names the
 * case it ports; the second half is in pingora-cache-2.test.ts.
 *
 * Where Pingora sleeps 1.1 s for a 1 s TTL to run out, these tests move `Date.now()` forward
 * instead (the cache reads freshness from it): the asset goes stale without the wait. The
 * origin's own sleeps (`x-set-sleep`, which keep a cache lock held) are real, and where Pingora
 * sleeps to let a request take the lock, these tests wait for that request to reach the origin.
 */
import http from 'node:http';
import net from 'node:net';
import { gunzipSync } from 'node:zlib';
import { CacheKey } from '@pingora-ts/cache';
import { closeAll, rawRequest, waitFor } from '@pingora-ts/test-utils';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type CacheOrigin, LAST_MODIFIED, startCacheOrigin } from '../test/pingora-cache-origin.js';
import { type CacheProxy, startCacheProxy } from '../test/pingora-cache-proxy.js';

let origin: CacheOrigin;
let proxy: CacheProxy;
// How far `Date.now()` runs ahead of the real clock (ms).
let skew = 0;

beforeEach(async () => {
  skew = 0;
  const realNow = Date.now.bind(Date);
  vi.spyOn(Date, 'now').mockImplementation(() => realNow() + skew);
  origin = await startCacheOrigin();
  proxy = await startCacheProxy(origin);
});
afterEach(async () => {
  vi.restoreAllMocks();
  await closeAll();
});

/** Ages every cached asset by `ms` (Pingora's `sleep(1100)` for a TTL of 1 s). */
const letExpire = (ms = 1100) => {
  skew += ms;
};

interface Head {
  status: number;
  httpVersion: string;
  headers: http.IncomingHttpHeaders;
  /** Header lines as sent, names and values alternating. */
  raw: string[];
  /** The body; rejects when the connection ends before the body did. */
  body: Promise<Buffer>;
}

/** Sends a request; resolves at the response head, the body follows in `body`. */
function send(path: string, headers: http.OutgoingHttpHeaders = {}, method = 'GET'): Promise<Head> {
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

interface Full extends Omit<Head, 'body'> {
  text: string;
  bytes: Buffer;
}

/** Sends a request and reads the whole response. */
async function get(path: string, headers: http.OutgoingHttpHeaders = {}, method = 'GET'): Promise<Full> {
  const r = await send(path, headers, method);
  const bytes = await r.body;
  return { ...r, bytes, text: bytes.toString() };
}

const epoch = (r: { headers: http.IncomingHttpHeaders }) => Number(r.headers['x-epoch']);
const status = (r: { headers: http.IncomingHttpHeaders }) => r.headers['x-cache-status'];
/** The values of every `name` line, in order. */
function values(r: { raw: string[] }, name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < r.raw.length; i += 2) if (r.raw[i]!.toLowerCase() === name) out.push(r.raw[i + 1]!);
  return out;
}

/** Whether the proxy's storage holds a fresh asset for `path`. */
async function freshInStorage(path: string): Promise<boolean> {
  const key = new CacheKey('', `127.0.0.1:${proxy.port}${path}`);
  const found = await proxy.storage.lookup(key.toCompact());
  if (found === undefined) return false;
  await found.hit.finish();
  return found.meta.isFresh(Date.now());
}

describe('Pingora test_cache (test_upstream.rs), part 1', () => {
  it('test_basic_caching: miss, hit (same origin epoch), then expired refetches', async () => {
    const path = '/unique/test_basic_caching/now';
    const miss = await get(path);
    expect(miss.status).toBe(200);
    expect(status(miss)).toBe('miss');
    expect(miss.text).toBe('hello world');

    const hit = await get(path);
    expect(hit.status).toBe(200);
    expect(status(hit)).toBe('hit');
    expect(hit.text).toBe('hello world');
    expect(epoch(hit)).toBe(epoch(miss));
    expect(origin.count(path)).toBe(1);

    letExpire();
    const expired = await get(path);
    expect(expired.status).toBe(200);
    expect(status(expired)).toBe('expired');
    expect(expired.text).toBe('hello world');
    expect(epoch(expired)).toBeGreaterThan(epoch(hit));
    expect(origin.count(path)).toBe(2);
  });

  it('test_purge: PURGE answers 200, then 404 once gone; the next GET is a miss', async () => {
    const path = '/unique/test_purge/test2';
    const miss = await get(path);
    expect(miss.status).toBe(200);
    expect(status(miss)).toBe('miss');
    expect(miss.text).toBe('hello world');
    const hit = await get(path);
    expect(status(hit)).toBe('hit');
    expect(hit.text).toBe('hello world');

    const purged = await get(path, {}, 'PURGE');
    expect(purged.status).toBe(200);
    expect(purged.text).toBe('');
    const again = await get(path, {}, 'PURGE');
    expect(again.status).toBe(404);
    expect(again.text).toBe('');

    const refill = await get(path);
    expect(refill.status).toBe(200);
    expect(status(refill)).toBe('miss');
    expect(refill.text).toBe('hello world');
    expect(origin.count(path)).toBe(2);
  });

  it('test_cache_miss_convert: a miss strips If-* and Range from the upstream request', async () => {
    const a = await get('/unique/test_cache_miss_convert/no_if_headers', {
      'if-modified-since': 'Wed, 19 Jan 2022 18:39:12 GMT',
    });
    // 200: the origin sent no Last-Modified to compare with.
    expect(a.status).toBe(200);
    expect(status(a)).toBe('miss');
    expect(a.text).toBe('no if headers detected\n');

    const b = await get('/unique/test_cache_miss_convert2/no_if_headers', { range: 'bytes=0-1' });
    expect(b.status).toBe(200);
    expect(status(b)).toBe('miss');
    expect(b.text).toBe('no if headers detected\n');
  });

  it('test_cache_http10: an HTTP/1.0 origin response is cached and sent chunked over 1.1', async () => {
    const path = '/unique/test_cache_http10/now';
    const h = { 'x-upstream-fake-http10': '1' };
    const miss = await get(path, h);
    expect(miss.status).toBe(200);
    expect(miss.httpVersion).toBe('1.1');
    expect(miss.headers['transfer-encoding']).toBe('chunked');
    expect(status(miss)).toBe('miss');
    expect(miss.text).toBe('hello world');

    const hit = await get(path, h);
    expect(hit.status).toBe(200);
    expect(hit.httpVersion).toBe('1.1');
    expect(hit.headers['transfer-encoding']).toBe('chunked');
    expect(status(hit)).toBe('hit');
    expect(hit.text).toBe('hello world');
    expect(epoch(hit)).toBe(epoch(miss));

    letExpire();
    const expired = await get(path, h);
    expect(expired.status).toBe(200);
    expect(expired.httpVersion).toBe('1.1');
    expect(expired.headers['transfer-encoding']).toBe('chunked');
    expect(status(expired)).toBe('expired');
    expect(expired.text).toBe('hello world');
    expect(epoch(expired)).toBeGreaterThan(epoch(hit));
  });

  it('test_cache_downstream_compression: the downstream module compresses misses and hits', async () => {
    // The origin sends these 32 bytes chunked, as OpenResty does; with no length known upfront
    // they are compressed (pingora-ts leaves bodies of a known length under 256 bytes alone).
    const path = '/unique/test_cache_downstream_compression/no_compression';
    const h = { 'x-downstream-compression': '1', 'accept-encoding': 'gzip' };
    const miss = await get(path, h);
    expect(miss.status).toBe(200);
    expect(miss.headers['content-encoding']).toBe('gzip');
    expect(status(miss)).toBe('miss');
    expect(miss.bytes.length).toBeLessThan(32);
    expect(gunzipSync(miss.bytes).toString()).toBe('B'.repeat(32));

    const hit = await get(path, h);
    expect(hit.status).toBe(200);
    expect(hit.headers['content-encoding']).toBe('gzip');
    expect(status(hit)).toBe('hit');
    expect(hit.bytes.length).toBeLessThan(32);
    expect(gunzipSync(hit.bytes).toString()).toBe('B'.repeat(32));
  });

  it('test_cache_downstream_decompression: gzip from upstream is decompressed on miss, hit, revalidated', async () => {
    const path = '/unique/test_cache_downstream_decompression/gzip/index.html';
    const h = { 'x-downstream-decompression': '1', 'x-upstream-accept-encoding': 'gzip' };
    const miss = await get(path, h);
    expect(miss.status).toBe(200);
    // The origin was asked for gzip; the client gets it decoded.
    expect(miss.headers['received-accept-encoding']).toBe('gzip');
    expect(miss.headers['content-encoding']).toBeUndefined();
    expect(status(miss)).toBe('miss');
    expect(miss.text).toBe('Hello World!\n');

    const hit = await get(path, h);
    expect(hit.status).toBe(200);
    expect(hit.headers['content-encoding']).toBeUndefined();
    expect(status(hit)).toBe('hit');
    expect(hit.text).toBe('Hello World!\n');

    letExpire();
    const revalidated = await get(path, h);
    expect(revalidated.status).toBe(200);
    expect(revalidated.headers['content-encoding']).toBeUndefined();
    expect(status(revalidated)).toBe('revalidated');
    expect(revalidated.text).toBe('Hello World!\n');
  });

  it('test_network_error_mid_response: a body cut by the origin is cut downstream and not cached', async () => {
    const path = '/sleep/test_network_error_mid_response.txt';
    const h = { 'x-set-sleep': '0', 'x-set-body-sleep': '0.1', 'x-abort-body': 'true' };
    for (let i = 0; i < 2; i++) {
      const r = await send(path, h);
      expect(r.status).toBe(200);
      expect(status(r)).toBe('miss');
      await expect(r.body).rejects.toThrow();
    }
    expect(origin.count(path)).toBe(2);
  });

  it('test_cache_upstream_revalidation: an expired asset is revalidated with a 304', async () => {
    const path = '/unique/test_upstream_revalidation/revalidate_now';
    const miss = await get(path);
    expect(miss.status).toBe(200);
    expect(status(miss)).toBe('miss');
    expect(miss.headers['x-upstream-status']).toBe('200');
    expect(miss.text).toBe('hello world');

    const hit = await get(path);
    expect(hit.status).toBe(200);
    expect(status(hit)).toBe('hit');
    expect(hit.headers['x-upstream-status']).toBeUndefined();
    expect(hit.text).toBe('hello world');
    expect(epoch(hit)).toBe(epoch(miss));

    letExpire();
    const reval = await get(path);
    expect(reval.status).toBe(200);
    expect(status(reval)).toBe('revalidated');
    expect(reval.headers['x-upstream-status']).toBe('304');
    expect(reval.text).toBe('hello world');
    // Still the stored response.
    expect(epoch(reval)).toBe(epoch(hit));
    // The revalidation was conditional.
    expect(origin.requests(path)[1]?.['if-none-match']).toBe('"abcd"');
  });

  it('test_cache_upstream_revalidation_appends_headers: the 304 Cache-Control lines replace the stored one', async () => {
    const path = '/unique/test_cache_upstream_revalidation_appends_headers/cache_control';
    const miss = await get(path, { 'set-cache-control': 'public, max-age=1' });
    expect(miss.status).toBe(200);
    expect(status(miss)).toBe('miss');
    expect(miss.headers['x-upstream-status']).toBe('200');
    expect(values(miss, 'cache-control')).toEqual(['public, max-age=1']);
    expect(miss.text).toBe('hello world');

    const hit = await get(path, { 'set-cache-control': 'public, max-age=1' });
    expect(hit.status).toBe(200);
    expect(status(hit)).toBe('hit');
    expect(hit.headers['x-upstream-status']).toBeUndefined();
    expect(values(hit, 'cache-control')).toHaveLength(1);
    expect(hit.text).toBe('hello world');

    letExpire();
    const reval = await get(path, {
      'set-cache-control': ['public, max-age=1', 'stale-while-revalidate=86400'],
      'set-revalidated': '1',
    });
    expect(reval.status).toBe(200);
    expect(status(reval)).toBe('revalidated');
    expect(reval.headers['x-upstream-status']).toBe('304');
    expect(values(reval, 'cache-control')).toEqual(['public, max-age=1', 'stale-while-revalidate=86400']);
    expect(reval.text).toBe('hello world');
  });

  it('test_force_miss: x-force-miss refetches a fresh asset', async () => {
    const path = '/unique/test_froce_miss/revalidate_now';
    const miss = await get(path);
    expect(status(miss)).toBe('miss');
    expect(miss.headers['x-upstream-status']).toBe('200');
    expect(miss.text).toBe('hello world');
    const hit = await get(path);
    expect(status(hit)).toBe('hit');
    expect(hit.headers['x-upstream-status']).toBeUndefined();
    expect(epoch(hit)).toBe(epoch(miss));

    const forced = await get(path, { 'x-force-miss': '1' });
    expect(forced.status).toBe(200);
    expect(status(forced)).toBe('miss');
    expect(forced.headers['x-upstream-status']).toBe('200');
    expect(forced.text).toBe('hello world');
    // A plain refetch: no conditional request.
    expect(origin.requests(path)[1]?.['if-none-match']).toBeUndefined();
  });

  it('test_force_miss_stale: x-force-miss refetches an expired asset instead of revalidating', async () => {
    const path = '/unique/test_froce_miss_stale/revalidate_now';
    const miss = await get(path);
    expect(status(miss)).toBe('miss');
    expect(miss.headers['x-upstream-status']).toBe('200');
    const hit = await get(path);
    expect(status(hit)).toBe('hit');
    expect(hit.headers['x-upstream-status']).toBeUndefined();
    expect(epoch(hit)).toBe(epoch(miss));

    letExpire();
    const forced = await get(path, { 'x-force-miss': '1' });
    expect(forced.status).toBe(200);
    expect(status(forced)).toBe('miss');
    expect(forced.headers['x-upstream-status']).toBe('200');
    expect(epoch(forced)).not.toBe(epoch(miss));
    expect(forced.text).toBe('hello world');
  });

  it('test_force_fresh: x-force-fresh serves an expired asset as a hit', async () => {
    const path = '/unique/test_force_fresh/revalidate_now';
    const miss = await get(path);
    expect(status(miss)).toBe('miss');
    expect(miss.headers['x-upstream-status']).toBe('200');
    const hit = await get(path);
    expect(status(hit)).toBe('hit');
    expect(epoch(hit)).toBe(epoch(miss));

    letExpire();
    const forced = await get(path, { 'x-force-fresh': '1' });
    expect(forced.status).toBe(200);
    expect(status(forced)).toBe('hit');
    expect(forced.headers['x-upstream-status']).toBeUndefined();
    expect(epoch(forced)).toBe(epoch(miss));
    expect(forced.text).toBe('hello world');
    expect(origin.count(path)).toBe(1);
  });

  it('test_cache_downstream_revalidation_etag: If-None-Match gets 304 on miss, hit and revalidated', async () => {
    const path = '/unique/test_downstream_revalidation_etag/revalidate_now';
    const both = { 'if-none-match': '"abcd", "foobar"' };
    const miss = await get(path, both);
    expect(miss.status).toBe(304);
    expect(status(miss)).toBe('miss');
    expect(miss.text).toBe('');

    const hit = await get(path, both);
    expect(hit.status).toBe(304);
    expect(status(hit)).toBe('hit');
    expect(hit.text).toBe('');
    expect(epoch(hit)).toBe(epoch(miss));

    const full = await get(path, { 'if-none-match': '"foobar"' });
    expect(full.status).toBe(200);
    expect(status(full)).toBe('hit');
    expect(full.text).toBe('hello world');
    expect(epoch(full)).toBe(epoch(miss));

    letExpire();
    const reval = await get(path, both);
    expect(reval.status).toBe(304);
    expect(status(reval)).toBe('revalidated');
    expect(reval.text).toBe('');
    expect(epoch(reval)).toBe(epoch(full));
  });

  it('test_cache_downstream_revalidation_last_modified: If-Modified-Since gets 304 on miss, hit and revalidated', async () => {
    const path = '/unique/test_downstream_revalidation_last_modified/revalidate_now';
    const miss = await get(path, { 'if-modified-since': LAST_MODIFIED });
    expect(miss.status).toBe(304);
    expect(status(miss)).toBe('miss');
    expect(miss.text).toBe('');

    const later = { 'if-modified-since': 'Tue, 03 May 2022 01:11:39 GMT' };
    const hit = await get(path, later);
    expect(hit.status).toBe(304);
    expect(status(hit)).toBe('hit');
    expect(hit.text).toBe('');
    expect(epoch(hit)).toBe(epoch(miss));

    const full = await get(path, { 'if-modified-since': 'Tue, 03 May 2022 00:11:39 GMT' });
    expect(full.status).toBe(200);
    expect(status(full)).toBe('hit');
    expect(full.text).toBe('hello world');
    expect(epoch(full)).toBe(epoch(miss));

    letExpire();
    const reval = await get(path, later);
    expect(reval.status).toBe(304);
    expect(status(reval)).toBe('revalidated');
    expect(reval.text).toBe('');
    expect(epoch(reval)).toBe(epoch(full));
  });

  it('test_cache_downstream_head: HEAD on miss, hit and revalidated, without bodies', async () => {
    const path = '/unique/test_downstream_head/revalidate_now';
    const miss = await get(path, {}, 'HEAD');
    expect(miss.status).toBe(200);
    expect(status(miss)).toBe('miss');
    expect(miss.text).toBe('');

    const hit = await get(path, {}, 'HEAD');
    expect(hit.status).toBe(200);
    expect(status(hit)).toBe('hit');
    expect(hit.text).toBe('');
    expect(epoch(hit)).toBe(epoch(miss));

    letExpire();
    const reval = await get(path, {}, 'HEAD');
    expect(reval.status).toBe(200);
    expect(status(reval)).toBe('revalidated');
    expect(reval.text).toBe('');
    expect(epoch(reval)).toBe(epoch(hit));
  });

  it('test_purge_reject: PURGE with the cache off answers 405', async () => {
    const r = await get('/', { 'x-bypass-cache': '1' }, 'PURGE');
    expect(r.status).toBe(405);
    expect(r.text).toBe('');
  });

  // Diverges from Pingora on purpose: what follows a 101 is a two-way tunnel, not a response body,
  // so pingora-ts never stores it, even when responseCacheFilter would; each upgrade reaches the
  // origin and gets the live tunnel.
  it('test_cache_websocket_101: an upgrade is tunnelled to the origin every time, never cached', async () => {
    const req = [
      'GET /unique/test_cache_websocket_101/upgrade HTTP/1.1',
      'Host: 127.0.0.1',
      'Upgrade: websocket',
      'Connection: Upgrade',
      'X-Cache-Websocket: 1',
      '',
      '',
    ].join('\r\n');
    const read = () =>
      rawRequest(proxy.port, req, { until: (s) => s.includes('\r\n\r\n') && s.endsWith('hello\n') });
    for (const expected of ['no-cache', 'no-cache']) {
      const text = await read();
      const [head, body] = text.split('\r\n\r\n', 2) as [string, string | undefined];
      expect(head.split('\r\n')[0]).toMatch(/^HTTP\/1\.1 101 /);
      expect(head).toMatch(/\r\nupgrade: websocket(\r\n|$)/i);
      expect(head).toMatch(new RegExp(`\\r\\nx-cache-status: ${expected}(\\r\\n|$)`, 'i'));
      expect(body).toBe('hello\n');
    }
    expect(origin.count('/unique/test_cache_websocket_101/upgrade')).toBe(2);
  });

  it('test_1xx_caching: a 103 before the answer changes neither caching nor bypass', async () => {
    // One-connection origin: a 103, then the final answer, then it stops listening.
    const oneShot = async (cc: string): Promise<number> => {
      const server = net.createServer((s) => {
        server.close();
        s.on('error', () => {});
        s.write('HTTP/1.1 103 Early Hints\r\nLink: <https://foo.bar>; rel=preconnect\r\n\r\n', () => {
          s.write(`HTTP/1.1 200 OK\r\nContent-Length: 5\r\nCache-Control: ${cc}\r\n\r\nhello`);
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      return (server.address() as net.AddressInfo).port;
    };
    const path = '/unique/test_1xx_caching';
    const port = await oneShot('max-age=5');
    const miss = await get(path, { 'x-port': String(port) });
    expect(miss.status).toBe(200);
    expect(status(miss)).toBe('miss');
    expect(miss.text).toBe('hello');
    // The origin is gone: only the cache can answer.
    const hit = await get(path, { 'x-port': String(port) });
    expect(hit.status).toBe(200);
    expect(status(hit)).toBe('hit');
    expect(hit.text).toBe('hello');

    const bypass = '/unique/test_1xx_bypass';
    for (let i = 0; i < 2; i++) {
      const r = await get(bypass, { 'x-port': String(await oneShot('private, no-store')) });
      expect(r.status).toBe(200);
      expect(status(r)).toBe('no-cache');
      expect(r.text).toBe('hello');
    }
  });

  it('test_bypassed_became_cacheable: a bypassed request whose response is cacheable fills the cache', async () => {
    const path = '/unique/test_bypassed/cache_control';
    const priv = await get(path, { 'set-cache-control': 'private, max-age=0' });
    expect(priv.status).toBe(200);
    expect(priv.headers['cache-control']).toBe('private, max-age=0');
    expect(status(priv)).toBe('no-cache');
    expect(priv.text).toBe('hello world');

    const fill = await get(path, { 'set-cache-control': 'public, max-age=10' });
    expect(fill.status).toBe(200);
    expect(status(fill)).toBe('miss');
    expect(fill.text).toBe('hello world');

    const hit = await get(path, { 'set-cache-control': 'public, max-age=10' });
    expect(hit.status).toBe(200);
    expect(status(hit)).toBe('hit');
    expect(hit.text).toBe('hello world');
    expect(origin.count(path)).toBe(2);
  });

  it('test_bypassed_304: a bypassed 304 is deferred; the next request fills the cache', async () => {
    const path = '/unique/test_bypassed_304/cache_control';
    const priv = await get(path, { 'set-cache-control': 'private, max-age=0' });
    expect(priv.status).toBe(200);
    expect(priv.headers['cache-control']).toBe('private, max-age=0');
    expect(status(priv)).toBe('no-cache');
    expect(priv.text).toBe('hello world');

    // Cacheable, but a 304 has no body to store: caching waits for the next request.
    const notModified = await get(path, {
      'set-cache-control': 'public, max-age=10',
      'set-revalidated': '1',
    });
    expect(notModified.status).toBe(304);
    expect(status(notModified)).toBe('deferred');

    const fill = await get(path, { 'set-cache-control': 'public, max-age=10' });
    expect(fill.status).toBe(200);
    expect(status(fill)).toBe('miss');
    expect(fill.text).toBe('hello world');

    const hit = await get(path, { 'set-cache-control': 'public, max-age=10' });
    expect(hit.status).toBe(200);
    expect(status(hit)).toBe('hit');
    expect(hit.text).toBe('hello world');
  });

  it('test_bypassed_uncacheable_304: a 304 that makes the asset uncacheable still serves it; later requests bypass', async () => {
    const path = '/unique/test_bypassed_private_304/cache_control';
    const fill = await get(path, { 'set-cache-control': 'public, max-age=0' });
    expect(fill.status).toBe(200);
    expect(fill.headers['cache-control']).toBe('public, max-age=0');
    expect(status(fill)).toBe('miss');
    expect(fill.text).toBe('hello world');

    // Stale at once; the 304 says private: the client (who sent no condition) gets the body.
    const reval = await get(path, { 'set-cache-control': 'private', 'set-revalidated': '1' });
    expect(reval.status).toBe(200);
    expect(status(reval)).toBe('revalidated');
    expect(reval.text).toBe('hello world');

    const bypassed = await get(path, { 'set-cache-control': 'public, max-age=10', 'set-revalidated': '1' });
    expect(bypassed.status).toBe(304);
    expect(status(bypassed)).toBe('deferred');
  });

  it('test_bypassed_head: a bypassed HEAD is not stored; the next GET fills the cache', async () => {
    const path = '/unique/test_bypassed_head/cache_control';
    const priv = await get(path, { 'set-cache-control': 'private, max-age=0' });
    expect(priv.status).toBe(200);
    expect(status(priv)).toBe('no-cache');
    expect(priv.text).toBe('hello world');

    const head = await get(path, { 'set-cache-control': 'public, max-age=10' }, 'HEAD');
    expect(head.status).toBe(200);
    expect(status(head)).toBe('deferred');

    const fill = await get(path, { 'set-cache-control': 'public, max-age=10' });
    expect(fill.status).toBe(200);
    expect(status(fill)).toBe('miss');
    expect(fill.text).toBe('hello world');
  });

  it('test_eviction: admitting past the 8192-byte budget evicts the least recently used asset', async () => {
    const fetch = async (n: number, size: number) => {
      const r = await get(`/file_maker/test_eviction${n}`, { 'x-set-size': String(size), 'x-eviction': '1' });
      expect(r.status).toBe(200);
      expect(r.text).toHaveLength(size);
      return status(r);
    };
    expect(await fetch(1, 3000)).toBe('miss');
    expect(await fetch(2, 3000)).toBe('miss');
    expect(await fetch(2, 3000)).toBe('hit');
    expect(await fetch(1, 3000)).toBe('hit');
    expect(await fetch(3, 6000)).toBe('miss');
    // Asset 2 was used least recently: admitting asset 3 evicted it.
    expect(await fetch(2, 3000)).toBe('miss');
  });
});

describe('Pingora test_cache (test_upstream.rs), part 1: cache lock and stale', () => {
  /** Resolves once `n` requests for `path` reached the origin. */
  const reached = (path: string, n: number) =>
    waitFor(() => origin.count(path) >= n, { message: `${n} request(s) for ${path} at the origin` });

  it('test_cache_lock_miss_hit: without the lock all are misses; with it, the waiters hit', async () => {
    const path = '/sleep/test_cache_lock_miss_hit.txt';
    const unlocked = await Promise.all([get(path), get(path), get(path)]);
    for (const r of unlocked) {
      expect(r.status).toBe(200);
      expect(status(r)).toBe('miss');
      expect(r.text).toBe('hello world');
    }
    const hit = await get(path);
    expect(status(hit)).toBe('hit');
    expect(hit.text).toBe('hello world');
    expect(origin.count(path)).toBe(3);

    const locked = '/sleep/test_cache_lock_miss_hit2.txt';
    const writer = get(locked, { 'x-lock': 'true' });
    await reached(locked, 1);
    const readers = [get(locked, { 'x-lock': 'true' }), get(locked, { 'x-lock': 'true' })];
    const w = await writer;
    expect(w.status).toBe(200);
    expect(status(w)).toBe('miss');
    expect(w.text).toBe('hello world');
    for (const r of await Promise.all(readers)) {
      expect(r.status).toBe(200);
      expect(status(r)).toBe('hit');
      // They waited for the writer's 1 s origin fetch (most of it), not for the 2 s wait timeout.
      const waited = Number(r.headers['x-cache-lock-time-ms']);
      expect(waited).toBeGreaterThan(500);
      expect(waited).toBeLessThan(2000);
      expect(r.text).toBe('hello world');
    }
    expect(origin.count(locked)).toBe(1);
  });

  it('test_cache_lock_expired: one request refreshes an expired asset; the waiters hit the new one', async () => {
    const path = '/sleep/test_cache_lock_expired.txt';
    const h = { 'x-lock': 'true', 'x-no-stale-revalidate': 'true' };
    const first = await get(path, { 'x-no-stale-revalidate': 'true' });
    expect(first.status).toBe(200);
    expect(status(first)).toBe('miss');
    expect(first.text).toBe('hello world');

    letExpire();
    const writer = get(path, h);
    await reached(path, 2);
    const readers = [get(path, h), get(path, h)];
    const w = await writer;
    expect(w.status).toBe(200);
    expect(status(w)).toBe('expired');
    expect(w.text).toBe('hello world');
    for (const r of await Promise.all(readers)) {
      expect(r.status).toBe(200);
      expect(status(r)).toBe('hit');
      expect(r.text).toBe('hello world');
    }
    expect(origin.count(path)).toBe(2);
  });

  it('test_cache_lock_network_error: when the writer fails, exactly one waiter takes over', async () => {
    const path = '/sleep/test_cache_lock_network_error.txt';
    const writer = get(path, { 'x-lock': 'true', 'x-set-sleep': '0.3', 'x-abort': 'true' });
    await reached(path, 1);
    const readers = [get(path, { 'x-lock': 'true' }), get(path, { 'x-lock': 'true' })];
    expect((await writer).status).toBe(502);
    const statuses: string[] = [];
    for (const r of await Promise.all(readers)) {
      expect(r.status).toBe(200);
      expect(r.text).toBe('hello world');
      statuses.push(String(status(r)));
    }
    expect(statuses.filter((s) => s === 'miss')).toHaveLength(1);
  });

  it('test_cache_lock_uncacheable: when the writer finds the response uncacheable, the waiters do not cache', async () => {
    const path = '/sleep/test_cache_lock_uncacheable.txt';
    const writer = get(path, { 'x-lock': 'true', 'x-no-store': 'true' });
    await reached(path, 1);
    const readers = [get(path, { 'x-lock': 'true' }), get(path, { 'x-lock': 'true' })];
    for (const r of [await writer, ...(await Promise.all(readers))]) {
      expect(r.status).toBe(200);
      expect(status(r)).toBe('no-cache');
      expect(r.text).toBe('hello world');
    }
  });

  it('test_cache_lock_timeout: a writer past the lock age timeout is replaced', async () => {
    const path = '/sleep/test_cache_lock_timeout.txt';
    // The origin holds the first writer 3 s; the lock gives up on it after 2 s.
    const slow = get(path, { 'x-lock': 'true', 'x-set-sleep': '3' });
    await reached(path, 1);
    const second = get(path, { 'x-lock': 'true', 'x-set-sleep': '0.1' });
    const s = await second;
    expect(s.status).toBe(200);
    // The lock timed out: this request took it over and fetched.
    expect(status(s)).toBe('miss');
    expect(s.text).toBe('hello world');
    expect(origin.count(path)).toBe(2);

    // Pingora sends this one while the first writer still holds its (timed-out) lock.
    const third = await get(path, { 'x-lock': 'true', 'x-set-sleep': '0.1' });
    expect(third.status).toBe(200);
    expect(status(third)).toBe('hit');
    expect(third.text).toBe('hello world');

    const first = await slow;
    expect(first.status).toBe(200);
    expect(status(first)).toBe('miss');
    expect(first.text).toBe('hello world');
    expect(origin.count(path)).toBe(2);
  });

  it('test_cache_lock_wait_timeout: no reader waits on the lock longer than the 2 s wait timeout', async () => {
    const path = '/sleep/test_cache_lock_wait_timeout.txt';
    const h = { 'x-lock': 'true', 'x-set-sleep': '1', 'x-abort': '1' };
    const all = await Promise.all(Array.from({ length: 8 }, () => get(path, h)));
    let waited = 0;
    for (const r of all) {
      expect(r.status).toBe(502);
      const ms = r.headers['x-cache-lock-time-ms'];
      if (ms !== undefined) {
        waited++;
        expect(Number(ms)).toBeLessThanOrEqual(2200);
      }
    }
    expect(waited).toBeGreaterThan(0);
  });

  it('test_cache_serve_stale_network_error: an expired asset is served stale when the origin drops the connection', async () => {
    const path = '/sleep/test_cache_serve_stale_network_error.txt';
    const miss = await get(path, { 'x-set-sleep': '0' });
    expect(miss.status).toBe(200);
    expect(status(miss)).toBe('miss');
    expect(miss.text).toBe('hello world');

    letExpire();
    const stale = await get(path, { 'x-set-sleep': '0', 'x-abort': 'true' });
    expect(stale.status).toBe(200);
    expect(status(stale)).toBe('stale');
    expect(stale.text).toBe('hello world');
  });

  it('test_cache_serve_stale_network_error_mid_response: once the new body streams, an error cuts it', async () => {
    const path = '/sleep/test_cache_serve_stale_network_error_mid_response.txt';
    const miss = await get(path, { 'x-set-sleep': '0' });
    expect(miss.status).toBe(200);
    expect(status(miss)).toBe('miss');
    expect(miss.text).toBe('hello world');

    letExpire();
    const r = await send(path, { 'x-set-sleep': '0', 'x-set-body-sleep': '0.1', 'x-abort-body': 'true' });
    expect(r.status).toBe(200);
    expect(status(r)).toBe('expired');
    await expect(r.body).rejects.toThrow();
  });

  it('test_cache_serve_stale_on_500: an expired asset is served stale instead of a 500', async () => {
    const path = '/sleep/test_cache_serve_stale_on_500.txt';
    const miss = await get(path, { 'x-set-sleep': '0' });
    expect(miss.status).toBe(200);
    expect(status(miss)).toBe('miss');
    expect(miss.text).toBe('hello world');

    letExpire();
    const stale = await get(path, { 'x-set-sleep': '0', 'x-error-header': 'true' });
    expect(stale.status).toBe(200);
    expect(status(stale)).toBe('stale');
    expect(stale.text).toBe('hello world');
    expect(origin.count(path)).toBe(2);
  });

  it('test_stale_while_revalidate_many_readers: every reader gets the stale asset while one refreshes it', async () => {
    const path = '/sleep/test_stale_while_revalidate_many_readers.txt';
    const miss = await get(path);
    expect(miss.status).toBe(200);
    expect(status(miss)).toBe('miss');
    expect(miss.text).toBe('hello world');

    letExpire(1000);
    const first = await get(path, { 'x-lock': 'true' });
    const rest = await Promise.all([get(path, { 'x-lock': 'true' }), get(path, { 'x-lock': 'true' })]);
    for (const r of [first, ...rest]) {
      expect(r.status).toBe(200);
      expect(status(r)).toBe('stale-updating');
      expect(r.text).toBe('hello world');
    }
    // One background refresh (the origin sleeps 1 s on it), not one per reader.
    await reached(path, 2);
    await waitFor(() => freshInStorage(path), { message: 'the refreshed asset in storage' });
    expect(origin.count(path)).toBe(2);
  });

  it('test_stale_while_revalidate_single_request: the background refresh makes the next request a hit', async () => {
    const path = '/sleep/test_stale_while_revalidate_single_request.txt';
    const miss = await get(path, { 'x-set-sleep': '0' });
    expect(miss.status).toBe(200);
    expect(status(miss)).toBe('miss');
    expect(miss.text).toBe('hello world');

    letExpire(1000);
    const stale = await get(path, { 'x-lock': 'true', 'x-set-sleep': '0' });
    expect(stale.status).toBe(200);
    expect(status(stale)).toBe('stale-updating');
    expect(stale.text).toBe('hello world');

    // Pingora sleeps 100 ms here; wait for the refreshed asset instead.
    await waitFor(() => freshInStorage(path), { message: 'the refreshed asset in storage' });
    const hit = await get(path, { 'x-lock': 'true' });
    expect(hit.status).toBe(200);
    expect(status(hit)).toBe('hit');
    expect(hit.text).toBe('hello world');
    expect(origin.count(path)).toBe(2);
  });
});
