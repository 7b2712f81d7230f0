// Ad hoc (not committed): a caching proxy on MemoryStorage or DiskStorage for wrk.
import http from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CacheLock, CacheMeta, DiskStorage, FileCacheLock, LruEvictionManager, MemoryStorage } from '@pingora-ts/cache';
import { HttpPeer, HttpServer, Service, ShutdownController } from '@pingora-ts/core';
import { HttpProxy } from './src/index.js';
import { startService } from '@pingora-ts/test-utils';

const kind = process.argv[2];
const size = Number(process.argv[3] ?? 1024);
const body = Buffer.alloc(size, 97);
let originHits = 0;
setInterval(() => console.log(`ORIGIN ${originHits}`), 2000).unref();
const origin = http.createServer((_q, r) => { originHits++; r.setHeader('cache-control', 'max-age=3600'); r.end(body); });
await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
const oport = (origin.address() as import('node:net').AddressInfo).port;
const eviction = new LruEvictionManager({ maxBytes: 1 << 28 });
const root = mkdtempSync(join(tmpdir(), 'e2e-disk-'));
const storage = kind.startsWith('disk')
  ? await DiskStorage.open<CacheMeta>({ root, eviction, serializeMeta: (m) => m.serialize(), deserializeMeta: CacheMeta.deserialize, freshUntil: (m) => m.freshUntil })
  : new MemoryStorage<CacheMeta>({ eviction, freshUntil: (m) => m.freshUntil });
const lock = kind.startsWith('disk') ? kind === 'disk-memlock' ? new CacheLock({ ageTimeoutMs: 10_000 }) : new FileCacheLock({ dir: join(root, 'locks'), ageTimeoutMs: 10_000 }) : new CacheLock({ ageTimeoutMs: 10_000 });
const proxy = new HttpProxy({
  upstreamPeer: () => new HttpPeer(`127.0.0.1:${oport}`, false, ''),
  requestCacheFilter: (s) => s.cache.enable(storage, undefined, undefined, lock),
});
const service = new Service('p', new HttpServer(proxy));
service.addTcp('127.0.0.1:0');
const port = await startService(service, new ShutdownController());
console.log(`PORT ${port}`);
if (process.argv[4] === 'count') {
  const st = storage as any; const calls: Record<string, number> = {};
  for (const m of ['lookup', 'getMissHandler', 'purge', 'updateMeta']) { const f = st[m].bind(st); st[m] = async (...a: unknown[]) => { calls[m] = (calls[m] ?? 0) + 1; const r = await f(...a); if (m === 'lookup' && r) { const h = r.hit; for (const hm of ['readBody', 'finish', 'seek']) { const g = h[hm].bind(h); h[hm] = (...b: unknown[]) => { calls[hm] = (calls[hm] ?? 0) + 1; return g(...b); }; } } return r; }; }
  setInterval(() => console.log(`CALLS ${JSON.stringify(calls)}`), 1000).unref();
}
