/**
 * The proxy with the disk cache of @pingora-ts/cache: hits from files, a restart that keeps them, and
 * two proxies sharing one directory (as worker processes do) that fetch a stampede's key once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CacheMeta, DiskStorage, FileCacheLock, LruEvictionManager } from '@pingora-ts/cache';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, request, startOrigin, startProxy } from '../../test/helpers.js';
import type { ProxyHttp } from '../index.js';

const dirs: string[] = [];
const storages: DiskStorage<CacheMeta>[] = [];
afterEach(async () => {
  await closeAll();
  for (const s of storages.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Every proxy serves one site: the cache key (host and path) must not depend on the proxy's port. */
const site = { headers: { host: 'cdn.example' } };

function tempRoot(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pingora-proxy-disk-'));
  dirs.push(dir);
  return dir;
}

/** One worker's cache: its own storage and lock objects on the shared directory. */
async function diskCache(root: string) {
  const storage = await DiskStorage.open<CacheMeta>({
    root,
    eviction: new LruEvictionManager({ maxBytes: 1 << 24 }),
    serializeMeta: (meta) => meta.serialize(),
    deserializeMeta: CacheMeta.deserialize,
    freshUntil: (meta) => meta.freshUntil,
  });
  storages.push(storage);
  const lock = new FileCacheLock({ dir: join(root, 'locks'), ageTimeoutMs: 10_000, waitTimeoutMs: 10_000 });
  return { storage, lock };
}

function cachingProxy(
  origin: { peer(): import('@pingora-ts/core').HttpPeer },
  cache: Awaited<ReturnType<typeof diskCache>>,
): ProxyHttp {
  return {
    upstreamPeer: () => origin.peer(),
    requestCacheFilter: (s) => s.cache.enable(cache.storage, undefined, undefined, cache.lock),
    responseFilter: (s, resp) => void resp.insertHeader('x-cache-status', s.cache.cachePhaseName()),
  };
}

describe('proxy with DiskStorage', () => {
  it('a miss fills the disk cache, the next request hits, and a restarted proxy still hits', async () => {
    let hits = 0;
    const origin = await startOrigin((_req, res) => {
      hits++;
      res.setHeader('cache-control', 'max-age=600');
      res.end(`from disk ${'x'.repeat(50_000)}`);
    });
    const root = tempRoot();
    const first = await diskCache(root);
    const p1 = await startProxy(cachingProxy(origin, first));
    const r1 = await request(p1.url('/asset'), site);
    expect(r1.status).toBe(200);
    expect(r1.headers['x-cache-status']).toBe('miss');
    const r2 = await request(p1.url('/asset'), site);

    expect(r2.headers['x-cache-status']).toBe('hit');
    expect(r2.body).toBe(r1.body);
    expect(hits).toBe(1);
    await closeAll();
    await first.storage.close();

    // A new proxy on the same directory, as after a restart or an upgrade.
    const second = await diskCache(root);
    expect(second.storage.storedItems()).toBe(1);
    const p2 = await startProxy(cachingProxy(origin, second));
    const r3 = await request(p2.url('/asset'), site);
    expect(r3.headers['x-cache-status']).toBe('hit');
    expect(r3.body).toBe(r1.body);
    expect(hits).toBe(1);
  });

  it('two proxies sharing the directory fetch a stampede’s key from the origin once', async () => {
    let hits = 0;
    let answer: (() => void) | undefined;
    const held = new Promise<void>((resolve) => {
      answer = resolve;
    });
    let reached: (() => void) | undefined;
    const firstRequest = new Promise<void>((resolve) => {
      reached = resolve;
    });
    const origin = await startOrigin((_req, res) => {
      hits++;
      reached?.();
      void held.then(() => {
        res.setHeader('cache-control', 'max-age=600');
        res.end('shared body');
      });
    });
    const root = tempRoot();
    const a = await startProxy(cachingProxy(origin, await diskCache(root)));
    const b = await startProxy(cachingProxy(origin, await diskCache(root)));
    const all = Array.from({ length: 20 }, (_, i) => request((i % 2 === 0 ? a : b).url('/hot'), site));
    await firstRequest;
    answer?.();
    const responses = await Promise.all(all);
    expect(responses.every((r) => r.status === 200 && r.body === 'shared body')).toBe(true);
    expect(hits).toBe(1);
    expect(responses.filter((r) => r.headers['x-cache-status'] === 'miss')).toHaveLength(1);
  });
});
