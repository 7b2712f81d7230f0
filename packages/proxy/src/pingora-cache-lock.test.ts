/**
 * Pingora's cache integration tests (`mod test_cache` in pingora-proxy/tests/test_upstream.rs):
 * the cache lock and serving stale (stale-if-error, stale-while-revalidate), ported with the
 * harness of test/pingora-cache-harness.ts. Each `it` names the case it ports.
 */
import { waitFor } from '@pingora-ts/test-utils';
import { describe, expect, it } from 'vitest';
import {
  freshInStorage,
  get,
  letExpire,
  origin,
  send,
  status,
  useCacheHarness,
} from '../test/pingora-cache-harness.js';

useCacheHarness();

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

    letExpire();
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

    letExpire();
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
