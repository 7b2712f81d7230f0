/**
 * Memory per cached object with no proxy in the way: <count> objects of <bytes> written straight
 * into a `MemoryStorage` bounded by an `LruEvictionManager`, each with the `CacheMeta` (response
 * head included) and the hashed key the proxy would store, the body in 64 KB chunks as socket reads
 * deliver it (each chunk its own allocation). Prints one JSON line: RSS and heapUsed + external before and after, each after a full
 * GC. Run with --expose-gc.
 *   memory-storage.mjs <bytes> <count>
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CacheKey, CacheMeta, LruEvictionManager, MemoryStorage } from '@pingora-ts/cache';

const [bytes, count] = process.argv.slice(2).map(Number);
if (typeof globalThis.gc !== 'function') throw new Error('run with --expose-gc');

// The response head type lives in @pingora-ts/http, a dependency of the cache and not of the
// benches: load the very module instance the cache's own build imports.
const fromCache = createRequire(
  join(dirname(new URL(import.meta.resolve('@pingora-ts/cache')).pathname), '..', 'package.json'),
);
const httpDir = dirname(fromCache.resolve('@pingora-ts/http/package.json'));
const { ResponseHeader } = await import(pathToFileURL(join(httpDir, 'dist', 'index.js')).href);

const eviction = new LruEvictionManager({ maxBytes: 4 * 1024 ** 3 });
const storage = new MemoryStorage({ eviction, freshUntil: (meta) => meta.freshUntil });
const body = Buffer.alloc(bytes, 'a');
const CHUNK = 64 * 1024;

async function store(path) {
  const now = Date.now();
  const header = ResponseHeader.build(200);
  header.appendHeader('Content-Type', 'application/octet-stream');
  header.appendHeader('Content-Length', String(bytes));
  header.appendHeader('Cache-Control', 'public, max-age=3600');
  header.appendHeader('Date', new Date(now).toUTCString());
  const meta = new CacheMeta({
    freshUntil: now + 3_600_000,
    created: now,
    staleWhileRevalidateSec: 0,
    staleIfErrorSec: 0,
    header,
  });
  const key = new CacheKey('', `127.0.0.1${path}`).toCompact();
  const miss = await storage.getMissHandler(key, meta);
  for (let at = 0; at < bytes; at += CHUNK) {
    const end = Math.min(bytes, at + CHUNK);
    // Each chunk in its own memory, as each socket read arrives; a view of one shared body would
    // make every object cost nothing if the storage keeps views.
    const chunk = Buffer.allocUnsafeSlow(end - at);
    body.copy(chunk, 0, at, end);
    await miss.writeBody(chunk, end === bytes);
  }
  await miss.finish();
}

function measure() {
  globalThis.gc();
  globalThis.gc();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed + m.external };
}

// A first batch under other keys warms every code path, so the baseline is not taken cold.
for (let i = 0; i < 200; i++) await store(`/warm/${bytes}/${i}`);
const before = measure();
for (let i = 0; i < count; i++) await store(`/obj/${bytes}/${i}`);
const after = measure();
process.stdout.write(
  `${JSON.stringify({ items: storage.storedItems() - 200, rss: after.rss - before.rss, heap: after.heap - before.heap })}\n`,
);
