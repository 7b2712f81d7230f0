/**
 * Pingora's cache integration tests (`mod test_cache` of pingora-proxy/tests/test_upstream.rs),
 * second half, ported (part 2 of 3): bodies streamed to readers while they are written, ranges,
 * clients that leave or stall mid-fill, and Vary. The proxy is the
 * port of Pingora's `ExampleProxyCache` (test/pingora-cache-proxy.ts) in front of an origin with
 * the OpenResty locations (test/pingora-cache-origin.ts); each test gets its own of both, so no
 * asset, lock or prediction leaks between tests. Each `it` names the case it ports.
 *
 * Where Pingora sleeps (to let one request take the lock first, or a fill finish), these wait for
 * the effect: the origin's request counter, the storage's item count, the lock table. Origin
 * pauses are 0.4 s instead of 1 s: they only have to outlast a request's trip through the proxy.
 * The slow-body cases use `/held_slow_body`, which sends its head with the first body chunk as
 * OpenResty's `/slow_body` does (the lock-time assertions depend on it). The HTTP/2-downstream
 * cases use h2c where Pingora uses TLS: what is tested is the cache behind an HTTP/2 session.
 */
import { closeAll, waitFor } from '@pingora-ts/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import {
  HELLO,
  type Headers,
  MB4,
  PAUSE,
  boundaryOf,
  headThenLeave,
  leaveBeforeHead,
  multipart,
  send,
  sendVary,
  setup,
  stallingClient,
  storedFreshUntil,
  sum,
  useFrozenClock,
  advanceClock,
} from '../test/pingora-cache-clients.js';

afterEach(closeAll);
useFrozenClock();

describe('Pingora test_upstream.rs mod test_cache (part 2)', () => {
  it('test_cache_streaming_partial_body: lock waiters stream the body as it is written', async () => {
    const { origin, proxy } = await setup();
    const path = '/held_slow_body/test_cache_streaming_partial_body.txt';
    const h = { 'x-lock': 'true', 'x-set-sleep': PAUSE };
    const first = send(proxy.url(path), h);
    // The first request holds the lock once the origin has it.
    await waitFor(() => origin.count(path) === 1, { message: 'the first request at the origin' });
    const [r1, r2, r3] = await Promise.all([first, send(proxy.url(path), h), send(proxy.url(path), h)]);
    expect(sum(r1)).toEqual([200, 'miss', 'hello world!']);
    for (const r of [r2!, r3!]) {
      expect(sum(r)).toEqual([200, 'hit', 'hello world!']);
      const lockMs = Number(r.headers['x-cache-lock-time-ms']);
      expect(lockMs).toBeGreaterThanOrEqual(0);
      // The lock covers the head only: were the body under it too, it would approach the total.
      expect(lockMs).toBeLessThan(r.totalMs / 2);
    }
    expect(origin.count(path)).toBe(1);
  });

  it('test_cache_streaming_multiple_writers: concurrent writes of one key do not mix', async () => {
    const { origin, proxy } = await setup();
    const path = '/held_slow_body/test_cache_streaming_multiple_writers.txt';
    const [a, b] = await Promise.all([
      send(proxy.url(path), { 'x-set-hello': 'everyone', 'x-set-sleep': PAUSE }),
      // Must not use the other write's result.
      send(proxy.url(path), { 'x-force-expire': '1', 'x-set-hello': 'todo el mundo', 'x-set-sleep': PAUSE }),
    ]);
    expect(sum(a)).toEqual([200, 'miss', 'hello everyone!']);
    expect(sum(b)).toEqual([200, 'miss', 'hello todo el mundo!']);
    expect(origin.count(path)).toBe(2);
  });

  it('test_range_request', async () => {
    const { origin, proxy } = await setup();
    const path = '/unique/test_range_request/now';
    const url = proxy.url(path);
    const miss = await send(url, { Range: 'bytes=0-1' });
    expect(sum(miss)).toEqual([206, 'miss', 'he']);
    // The full body is cached.
    const full = await send(url);
    expect(sum(full)).toEqual([200, 'hit', HELLO]);
    expect(full.headers['x-epoch']).toBe(miss.headers['x-epoch']);
    expect(sum(await send(url, { Range: 'bytes=0-1' }))).toEqual([206, 'hit', 'he']);
    expect(sum(await send(url, { Range: 'bytes=1-0' }))).toEqual([416, 'hit', '']);
    expect(sum(await send(url, { Range: 'bytes=0-1' }, 'HEAD'))).toEqual([206, 'hit', '']);

    // The default freshness is 1 s: wait until the stored asset's lifetime is over.
    const freshUntil = await storedFreshUntil(proxy, path);
    advanceClock(freshUntil - Date.now() + 1);
    expect(sum(await send(url, { Range: 'bytes=0-1' }))).toEqual([206, 'expired', 'he']);
    expect(origin.count(path)).toBe(2);
  });

  it('test_multipart_range_request', async () => {
    const { proxy } = await setup();
    const url = proxy.url('/unique/test_multipart_range_request/now');
    const cases: Array<[string, string, Array<[string, string]>]> = [
      [
        'bytes=0-1, 6-8',
        'miss',
        [
          ['0-1', 'he'],
          ['6-8', 'wor'],
        ],
      ],
      [
        'bytes=2-3, 8-10',
        'hit',
        [
          ['2-3', 'll'],
          ['8-10', 'rld'],
        ],
      ],
      [
        'bytes=1-2, 3-4, 8-10',
        'hit',
        [
          ['1-2', 'el'],
          ['3-4', 'lo'],
          ['8-10', 'rld'],
        ],
      ],
    ];
    for (const [range, status, parts] of cases) {
      const r = await send(url, { Range: range });
      expect([r.status, r.headers['x-cache-status']]).toEqual([206, status]);
      expect(r.body).toBe(multipart(boundaryOf(r), parts));
    }
    // Overlapping ranges: the whole body.
    const r = await send(url, { Range: 'bytes=2-3, 8-10, 3-5' });
    expect([...sum(r), r.headers['content-type']]).toEqual([200, 'hit', HELLO, 'text/plain']);
    expect(sum(await send(url, { Range: 'bytes=0-2' }))).toEqual([206, 'hit', 'hel']);
    expect(sum(await send(url, { Range: 'bytes=20-22, 30-40' }))).toEqual([416, 'hit', '']);
    expect(sum(await send(url, { Range: 'bytes=3-7' }, 'HEAD'))).toEqual([206, 'hit', '']);
  });

  it('test_single_then_mutltipart_range_request', async () => {
    const { proxy } = await setup();
    const url = proxy.url('/unique/test_single_then_multipart_range_request/now');
    expect(sum(await send(url, { Range: 'bytes=0-4' }))).toEqual([206, 'miss', 'hello']);
    let r = await send(url, { Range: 'bytes=0-3, 6-7' });
    expect([r.status, r.headers['x-cache-status']]).toEqual([206, 'hit']);
    expect(r.body).toBe(
      multipart(boundaryOf(r), [
        ['0-3', 'hell'],
        ['6-7', 'wo'],
      ]),
    );
    // One satisfiable range among several: a single-range answer.
    r = await send(url, { Range: 'bytes=0-4, 12-14, 16-18' });
    expect(sum(r)).toEqual([206, 'hit', 'hello']);
    expect(String(r.headers['content-type'])).not.toContain('multipart/byteranges; boundary=');
  });

  it('test_caching_when_downstream_bails: the fill goes on after the client leaves', async () => {
    const { origin, proxy } = await setup();
    const path = '/held_slow_body/test_caching_when_downstream_bails/';
    const h = { 'x-lock': 'true', 'x-set-sleep': PAUSE };
    const first = headThenLeave(proxy.url(path), h);
    await waitFor(() => origin.count(path) === 1, { message: 'the first request at the origin' });
    const second = send(proxy.url(path), h);
    const r1 = await first;
    expect([r1.status, r1.headers['x-cache-status']]).toEqual([200, 'miss']);
    const r2 = await second;
    expect(sum(r2)).toEqual([200, 'hit', 'hello world!']);
    const lockMs = Number(r2.headers['x-cache-lock-time-ms']);
    // Only the head was under the lock (the body needs two more pauses).
    expect(lockMs).toBeGreaterThanOrEqual(0);
    expect(lockMs).toBeLessThanOrEqual(Math.ceil(r2.headMs));
    expect(lockMs).toBeLessThan(r2.totalMs / 2);
    expect(origin.count(path)).toBe(1);
  });

  it('test_caching_when_downstream_bails_uncacheable', async () => {
    const { origin, proxy } = await setup();
    const path = '/held_slow_body/test_caching_when_downstream_bails_uncacheable/';
    const first = headThenLeave(proxy.url(path), {
      'x-lock': 'true',
      'x-no-store': '1',
      'x-set-sleep': PAUSE,
    });
    await waitFor(() => origin.count(path) === 1, { message: 'the first request at the origin' });
    const second = send(proxy.url(path), { 'x-lock': 'true', 'x-set-sleep': PAUSE });
    const r1 = await first;
    expect([r1.status, r1.headers['x-cache-status']]).toEqual([200, 'no-cache']);
    // The lock holder's response was uncacheable: the waiter gives up the lock and fetches alone.
    expect(sum(await second)).toEqual([200, 'no-cache', 'hello world!']);
    expect(origin.count(path)).toBe(2);
  });

  it('test_caching_when_downstream_bails_header: the client leaves before the head', async () => {
    const { origin, proxy } = await setup();
    const path = '/unique/test_caching_when_downstream_bails_header/sleep';
    await leaveBeforeHead(origin, proxy.url(path), path, { 'x-lock': 'true', 'x-set-sleep': PAUSE });
    // The fill completes without the client (the origin pauses 0.4 s; the cap is far above).
    await waitFor(() => proxy.storage.storedItems() === 1, {
      timeout: 4000,
      message: 'the asset to be stored',
    });
    expect(sum(await send(proxy.url(path), { 'x-lock': 'true' }))).toEqual([200, 'hit', HELLO]);
    expect(origin.count(path)).toBe(1);
  });

  it('test_caching_when_downstream_bails_header_uncacheable', async () => {
    const { origin, proxy } = await setup();
    const path = '/unique/test_caching_when_downstream_bails_header_uncacheable/sleep';
    const h = { 'x-lock': 'true', 'x-set-sleep': PAUSE, 'x-no-store': '1' };
    await leaveBeforeHead(origin, proxy.url(path), path, h);
    // The first request lets go of the fill: on the uncacheable head, or when it gives up.
    await waitFor(() => proxy.lock.size === 0, { message: 'the lock to be released' });
    // Predicted uncacheable or not, the cacheable answer to this one is stored.
    const r = await send(proxy.url(path), { 'x-lock': 'true', 'x-set-sleep': '0' });
    expect(sum(r)).toEqual([200, 'miss', HELLO]);
    expect(origin.count(path)).toBe(2);
  });

  it.each([
    ['test_caching_when_downstream_stalls', false],
    ['test_caching_h2_upstream_when_downstream_stalls', true],
  ])('%s: a stalled client does not hold back the fill', async (name, h2) => {
    const { origin, proxy } = await setup();
    const path = `/unique/${name}/download/`;
    const h: Headers = { 'x-lock': 'true', 'x-set-cache-control': 'public, max-age=60' };
    if (h2) h['x-h2'] = 'true';
    const fields = Object.entries(h).map(([k, v]) => `${k}: ${v}\r\n`);
    // Reads 10 KiB and stalls, holding its response (and the fill it started) open.
    await stallingClient(
      proxy.port,
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${proxy.port}\r\n${fields.join('')}\r\n`,
      10 * 1024,
    );
    const r = await send(proxy.url(path), h, 'GET', 5000);
    expect([r.status, r.headers['x-cache-status']]).toEqual([200, 'hit']);
    // No lock contention when the fill was quick enough; a short wait when there was.
    const lock = r.headers['x-cache-lock-time-ms'];
    if (lock !== undefined) expect(Number(lock)).toBeLessThan(2000);
    expect(r.body.length).toBe(MB4);
    expect(r.body).toBe('A'.repeat(MB4));
    expect(r.totalMs).toBeLessThan(5000);
    expect(origin.count(path)).toBe(1);
  });

  it('test_vary_caching', async () => {
    const { proxy } = await setup();
    const url = proxy.url('/unique/test_vary_caching/vary');
    const accept = (a: string) => sendVary(url, 'Accept', { Accept: a });
    const png = await accept('image/png');
    expect(sum(png)).toEqual([200, 'miss', HELLO]);
    const pngHit = await accept('image/png');
    expect([...sum(pngHit), pngHit.headers['x-epoch']]).toEqual([200, 'hit', HELLO, png.headers['x-epoch']]);
    const jpeg = await accept('image/jpeg');
    expect(sum(jpeg)).toEqual([200, 'miss', HELLO]);
    const jpegHit = await accept('image/jpeg');
    expect([...sum(jpegHit), jpegHit.headers['x-epoch']]).toEqual([
      200,
      'hit',
      HELLO,
      jpeg.headers['x-epoch'],
    ]);
    expect(jpeg.headers['x-epoch']).not.toBe(png.headers['x-epoch']);
  });

  it('test_vary_caching_ignored_vary_header: a Vary name off the allow-list is ignored', async () => {
    const { proxy } = await setup();
    const url = proxy.url('/unique/test_vary_caching_ignored_vary_header/vary');
    const field = 'Some-Ignored-Vary-Header';
    const png = await sendVary(url, field, { [field]: 'image/png' });
    expect(sum(png)).toEqual([200, 'miss', HELLO]);
    const epoch = png.headers['x-epoch'];
    const pngHit = await sendVary(url, field, { [field]: 'image/png' });
    expect([...sum(pngHit), pngHit.headers['x-epoch']]).toEqual([200, 'hit', HELLO, epoch]);
    // The png variant, not a jpeg one.
    const jpeg = await sendVary(url, field, { [field]: 'image/jpeg' });
    expect([jpeg.status, jpeg.headers['x-cache-status'], jpeg.headers['x-epoch']]).toEqual([
      200,
      'hit',
      epoch,
    ]);
  });

  it('test_vary_some_ignored', async () => {
    const { proxy } = await setup();
    const url = proxy.url('/unique/test_vary_some_ignored/vary');
    const req = async (ignored: string, accept: string) => {
      const r = await sendVary(url, 'Accept, SomeIgnoredVaryHeader', {
        SomeIgnoredVaryHeader: ignored,
        Accept: accept,
      });
      return { sum: [...sum(r)], epoch: r.headers['x-epoch'] };
    };
    const first = await req('image/webp', 'image/webp');
    expect(first.sum).toEqual([200, 'miss', HELLO]);
    expect(await req('image/webp', 'image/webp')).toMatchObject({
      sum: [200, 'hit', HELLO],
      epoch: first.epoch,
    });
    // A header not varied on changes nothing.
    const other = await req('definitely-not-webp', 'image/webp');
    expect(other).toMatchObject({ sum: [200, 'hit', HELLO], epoch: first.epoch });
    // A second variant by Accept.
    const second = await req('definitely-not-webp', 'image/jpeg');
    expect(second.sum).toEqual([200, 'miss', HELLO]);
    expect(second.epoch).not.toBe(first.epoch);
    const jpeg = await req('definitely-not-webp', 'image/jpeg');
    expect(jpeg).toMatchObject({ sum: [200, 'hit', HELLO], epoch: second.epoch });
    const webp = await req('definitely-not-webp', 'image/webp');
    expect(webp).toMatchObject({ sum: [200, 'hit', HELLO], epoch: first.epoch });
  });

  it('test_vary_dup_header_some_ignored: Vary over two header lines', async () => {
    const { proxy } = await setup();
    const url = proxy.url('/unique/test_vary_dup_header_some_ignored/vary');
    // Two set-vary lines: the origin answers with two Vary lines.
    const req = (accept: string) =>
      send(url, {
        SomeIgnoredVaryHeader: 'image/webp',
        Accept: accept,
        'set-vary': ['SomeIgnoredVaryHeader', 'Accept'],
      });
    const first = await req('image/webp');
    expect(sum(first)).toEqual([200, 'miss', HELLO]);
    const hit = await req('image/webp');
    expect([...sum(hit), hit.headers['x-epoch']]).toEqual([200, 'hit', HELLO, first.headers['x-epoch']]);
    const second = await req('image/jpeg');
    expect(sum(second)).toEqual([200, 'miss', HELLO]);
    expect(second.headers['x-epoch']).not.toBe(first.headers['x-epoch']);
  });

  it('test_vary_purge: purging the key removes every variant', async () => {
    const { proxy } = await setup();
    const url = proxy.url('/unique/test_vary_purge/vary');
    const accept = (a: string) => sendVary(url, 'Accept', { Accept: a });
    for (const a of ['image/png', 'image/jpeg']) {
      await accept(a);
      expect(sum(await accept(a))).toEqual([200, 'hit', HELLO]);
    }
    const purge = await send(url, {}, 'PURGE');
    expect([purge.status, purge.body]).toEqual([200, '']);
    // Variants are voided by creation time (ms): the refetch after the purge is a later moment.
    advanceClock(1);
    for (const a of ['image/png', 'image/jpeg']) expect(sum(await accept(a))).toEqual([200, 'miss', HELLO]);
  });
});
