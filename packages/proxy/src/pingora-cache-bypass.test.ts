import { describe, expect, it } from 'vitest';
import { get, origin, status, useCacheHarness } from '../test/pingora-cache-harness.js';

useCacheHarness();

describe('Pingora test_cache (test_upstream.rs), part 1: bypass and eviction', () => {
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
