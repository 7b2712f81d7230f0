/**
 * pingora-ts as a caching proxy, one process: an in-memory storage bounded by an LRU of <maxMiB>,
 * the cache lock for stampedes, keys of host + path, freshness from the origin's Cache-Control.
 * The control port answers `GET /` with the process's memory after a full GC (run it with
 * --expose-gc) and what the storage holds, for the memory-per-object measurement.
 *   pingora-ts.mjs <port> <originPort> <controlPort> <maxMiB>
 */
import http from 'node:http';
import { CacheKey, CacheLock, LruEvictionManager, MemoryStorage } from '@pingora-ts/cache';
import { HttpPeer, HttpServer, noopLogger, Service, ShutdownController } from '@pingora-ts/core';
import { HttpProxy } from '@pingora-ts/proxy';

const [port, originPort, controlPort, maxMiB] = process.argv.slice(2).map(Number);
const addr = `127.0.0.1:${originPort}`;

const eviction = new LruEvictionManager({ maxBytes: maxMiB * 1024 * 1024 });
const storage = new MemoryStorage({ eviction, freshUntil: (meta) => meta.freshUntil });
const lock = new CacheLock({ ageTimeoutMs: 10_000, waitTimeoutMs: 5_000 });

const proxy = new HttpProxy(
  {
    upstreamPeer: () => new HttpPeer(addr, false, ''),
    requestCacheFilter(session) {
      session.cache.enable(storage, eviction, undefined, lock);
    },
    cacheKeyCallback(session) {
      return CacheKey.default(session.reqHeader());
    },
  },
  { logger: noopLogger },
);
const service = new Service('bench', new HttpServer(proxy), { logger: noopLogger });
service.addTcp(`127.0.0.1:${port}`);

http
  .createServer((_req, res) => {
    // Twice: the first collection can leave garbage that only finalizers released.
    globalThis.gc?.();
    globalThis.gc?.();
    const m = process.memoryUsage();
    res.end(
      JSON.stringify({
        gc: typeof globalThis.gc === 'function',
        rss: m.rss,
        heapUsed: m.heapUsed,
        external: m.external,
        items: storage.storedItems(),
        storedBytes: storage.storedSize(),
      }),
    );
  })
  .listen(controlPort, '127.0.0.1');

await service.start(new ShutdownController().watch);
