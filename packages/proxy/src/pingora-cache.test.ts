/**
 * Pingora's cache integration tests (`mod test_cache` in pingora-proxy/tests/test_upstream.rs),
 * first half, ported: the same requests to Pingora's cache test proxy (test/pingora-cache-proxy.ts)
 * in front of an origin with the same locations (test/pingora-cache-origin.ts). Each `it` names the
 * case it ports; the lock and stale cases are in pingora-cache-lock.test.ts, the rest in
 * pingora-cache-2.test.ts and pingora-cache-3.test.ts.
 *
 * Where Pingora sleeps 1.1 s for a 1 s TTL to run out, these tests move `Date.now()` forward
 * instead (the cache reads freshness from it): the asset goes stale without the wait. The
 * origin's own sleeps (`x-set-sleep`, which keep a cache lock held) are real, and where Pingora
 * sleeps to let a request take the lock, these tests wait for that request to reach the origin.
 */
import net from 'node:net';
import { gunzipSync } from 'node:zlib';
import { rawRequest } from '@pingora-ts/test-utils';
import { describe, expect, it } from 'vitest';
import { LAST_MODIFIED } from '../test/pingora-cache-origin.js';
import {
  epoch,
  get,
  letExpire,
  origin,
  proxy,
  send,
  status,
  values,
  useCacheHarness,
} from '../test/pingora-cache-harness.js';

useCacheHarness();

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
});
