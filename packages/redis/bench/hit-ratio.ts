/**
 * Hit ratio of one request stream spread over 1 or 3 caching proxies: one instance with its own
 * memory cache, three instances each with its own memory cache, and three instances sharing
 * `RedisStorage` + `RedisCacheLock`. Same seeded Zipf-like stream of URLs (skew 1.0), requests
 * round-robin over the instances, 8 in flight; the origin counts what reaches it. Also reports
 * the Redis round trips per request of the shared setup.
 *
 *   cd packages/redis
 *   npx tsx --conditions=@pingora-ts/source bench/hit-ratio.ts [requests = 6000] [urls = 600]
 */
import { randomBytes } from 'node:crypto';
import { CacheLock, type CacheMeta, LruEvictionManager, MemoryStorage } from '@pingora-ts/cache';
import { HttpPeer, HttpServer, Service, ShutdownController } from '@pingora-ts/core';
import { HttpProxy, type ProxyHttp } from '@pingora-ts/proxy';
import {
  closeAll,
  memoryLogger,
  mulberry32,
  request,
  startOrigin,
  startService,
} from '@pingora-ts/test-utils';
import { cachingProxy, SAME_HOST } from '../test/proxies.js';
import { TestRedis } from '../test/redis-server.js';

const REQUESTS = Number(process.argv[2] ?? 6000);
const URLS = Number(process.argv[3] ?? 600);

async function memoryProxy(originPort: number): Promise<{ url(path: string): string }> {
  const eviction = new LruEvictionManager({ maxBytes: 64 << 20 });
  const storage = new MemoryStorage<CacheMeta>({ eviction, freshUntil: (m) => m.freshUntil });
  const lock = new CacheLock({ ageTimeoutMs: 10_000, waitTimeoutMs: 10_000 });
  const inner: ProxyHttp = {
    upstreamPeer: () => new HttpPeer(`127.0.0.1:${originPort}`, false, ''),
    requestCacheFilter: (s) => s.cache.enable(storage, eviction, undefined, lock),
  };
  const logger = memoryLogger();
  const service = new Service('memory proxy', new HttpServer(new HttpProxy(inner, { logger })), { logger });
  service.addTcp('127.0.0.1:0');
  const port = await startService(service, new ShutdownController());
  return { url: (path) => `http://127.0.0.1:${port}${path}` };
}

/** A seeded stream of paths, rank r drawn with weight 1/r. */
function stream(): string[] {
  const rand = mulberry32(42);
  const weights = Array.from({ length: URLS }, (_, i) => 1 / (i + 1));
  const total = weights.reduce((a, b) => a + b, 0);
  const cdf: number[] = [];
  let acc = 0;
  for (const w of weights) {
    acc += w / total;
    cdf.push(acc);
  }
  return Array.from({ length: REQUESTS }, () => {
    const x = rand();
    let lo = 0;
    let hi = URLS - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return `/item/${lo}`;
  });
}

async function runStream(urls: ((path: string) => string)[], paths: string[]): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < paths.length) {
      const i = next++;
      const r = await request(urls[i % urls.length]!(paths[i]!), SAME_HOST);
      if (r.status !== 200) throw new Error(`status ${r.status}`);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

async function main(): Promise<void> {
  const redis = await TestRedis.start();
  let originHits = 0;
  const origin = await startOrigin((req, res) => {
    originHits++;
    res.setHeader('cache-control', 'max-age=600');
    res.end(`body of ${req.url}`);
  });
  const paths = stream();
  const rows: string[] = [];
  const measure = async (name: string, urls: ((path: string) => string)[], trips?: () => number) => {
    originHits = 0;
    const before = trips?.() ?? 0;
    await runStream(urls, paths);
    const ratio = (1 - originHits / paths.length) * 100;
    const perReq = trips === undefined ? '–' : ((trips() - before) / paths.length).toFixed(2);
    rows.push(`| ${name} | ${originHits.toLocaleString('en-US')} | ${ratio.toFixed(1)} % | ${perReq} |`);
  };
  await measure('1 instance, memory cache', [(await memoryProxy(origin.port)).url]);
  const mem = [
    await memoryProxy(origin.port),
    await memoryProxy(origin.port),
    await memoryProxy(origin.port),
  ];
  await measure(
    '3 instances, a memory cache each',
    mem.map((m) => m.url),
  );
  const prefix = `bench:${randomBytes(4).toString('hex')}:`;
  const shared = [
    await cachingProxy(redis, prefix, origin.port),
    await cachingProxy(redis, prefix, origin.port),
    await cachingProxy(redis, prefix, origin.port),
  ];
  await measure(
    '3 instances sharing Redis',
    shared.map((p) => p.url),
    () => shared.reduce((s, p) => s + p.sent.count, 0),
  );
  console.log(
    `${REQUESTS.toLocaleString('en-US')} requests over ${URLS} URLs (Zipf 1.0, seed 42), round-robin, 8 in flight; node ${process.version}\n`,
  );
  console.log('| setup | origin requests | hit ratio | Redis round trips per request |');
  console.log('|---|---|---|---|');
  for (const row of rows) console.log(row);
  await closeAll();
  await redis.close();
}

await main();
