/**
 * Memory per cached object: a fresh target per object size is filled with `count` distinct objects
 * through its proxy port, and what it holds is compared before and after (both after a first batch
 * that warms the code paths). pingora-ts reports RSS and heapUsed + external after a full GC; the
 * same objects written straight into a `MemoryStorage` are measured too, as a figure without the
 * proxy. nginx keeps keys in its shared zone and bodies in files (and the kernel's page cache), so
 * its figures are the zone's resident growth, the process's RSS growth and the files' disk usage.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fetchAll } from '../lib/http-client.js';
import { type DirUsage, dirUsage, rssBytes, sharedAnonRss } from '../lib/proc-mem.js';
import { track } from '../lib/procs.js';
import { type CacheTarget, startTarget, stopTarget, type TargetEnv, type TargetName } from './targets.js';

/** Objects cached before the baseline, so the baseline is not taken with cold code paths. */
const WARM = 200;
/** Concurrent connections filling a cache. */
const FILL_CONCURRENCY = 16;

/** Per-object figures of one way of caching one object size, in bytes. */
export interface MemoryRow {
  target: TargetName;
  /** How the objects got in: through the proxy, or straight into the storage. */
  via: 'proxy' | 'MemoryStorage';
  objectBytes: number;
  rss: number;
  /** pingora-ts: heapUsed + external. */
  heap?: number;
  /** nginx: the keys zone's resident growth. */
  zone?: number;
  /** nginx: disk blocks of the cache files. */
  disk?: number;
  /** nginx: bytes in the cache files. */
  apparent?: number;
}

/** What the pingora-ts target's control port reports. */
interface PingoraMemory {
  gc: boolean;
  rss: number;
  heapUsed: number;
  external: number;
  items: number;
}

const paths = (bytes: number, prefix: string, n: number): string[] =>
  Array.from({ length: n }, (_, i) => `/obj/${bytes}/${prefix}${i}`);

/** Fills `t` with `n` objects of `bytes` under `prefix`; throws on the first failed request. */
async function fill(t: CacheTarget, bytes: number, prefix: string, n: number): Promise<void> {
  const r = await fetchAll(t.port, paths(bytes, prefix, n), FILL_CONCURRENCY);
  if (r.errors.length > 0)
    throw new Error(`${t.name}: ${r.errors.length} failed fills, first: ${r.errors[0]}`);
  if (r.bytes !== n * bytes) throw new Error(`${t.name}: got ${r.bytes} body bytes, want ${n * bytes}`);
}

async function pingoraMemory(controlPort: number): Promise<PingoraMemory> {
  const res = await fetch(`http://127.0.0.1:${controlPort}/`);
  return (await res.json()) as PingoraMemory;
}

/** pingora-ts through its proxy port. */
export async function measurePingora(env: TargetEnv, bytes: number, count: number): Promise<MemoryRow> {
  // Room for every object with its meta and a margin, so nothing is evicted while filling.
  const maxMiB = Math.ceil(((count + WARM) * (bytes + 4096) * 1.25) / 2 ** 20);
  const t = await startTarget('pingora-ts', env, maxMiB);
  try {
    await fill(t, bytes, 'warm-', WARM);
    const before = await pingoraMemory(t.controlPort!);
    if (!before.gc) throw new Error('pingora-ts target runs without --expose-gc');
    await fill(t, bytes, '', count);
    const after = await pingoraMemory(t.controlPort!);
    const stored = after.items - before.items;
    if (stored !== count) throw new Error(`pingora-ts stored ${stored} objects of ${count} fetched`);
    return {
      target: 'pingora-ts',
      via: 'proxy',
      objectBytes: bytes,
      rss: (after.rss - before.rss) / count,
      heap: (after.heapUsed + after.external - before.heapUsed - before.external) / count,
    };
  } finally {
    await stopTarget(t);
  }
}

/** The same objects written straight into a `MemoryStorage`, in a process of their own. */
export async function measureStorage(here: string, bytes: number, count: number): Promise<MemoryRow> {
  const child = track(
    spawn(process.execPath, ['--expose-gc', join(here, 'memory-storage.mjs'), String(bytes), String(count)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  );
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`memory-storage.mjs exited with ${code}`);
  const r = JSON.parse(out) as { items: number; rss: number; heap: number };
  if (r.items !== count) throw new Error(`MemoryStorage holds ${r.items} objects of ${count} written`);
  return {
    target: 'pingora-ts',
    via: 'MemoryStorage',
    objectBytes: bytes,
    rss: r.rss / count,
    heap: r.heap / count,
  };
}

/**
 * The usage of nginx's cache directory once it holds `files` files, or after 5 s. nginx renames a
 * cache file into place when the upstream response is finished, which can be a moment after the
 * client got its last byte.
 */
async function cacheFiles(dir: string, files: number): Promise<DirUsage> {
  let u = dirUsage(dir);
  for (let i = 0; i < 100 && u.files < files; i++) {
    await new Promise((r) => setTimeout(r, 50));
    u = dirUsage(dir);
  }
  return u;
}

/** nginx through its proxy port. */
export async function measureNginx(env: TargetEnv, bytes: number, count: number): Promise<MemoryRow> {
  const t = await startTarget('nginx', env, 0);
  try {
    await fill(t, bytes, 'warm-', WARM);
    const dir0 = await cacheFiles(t.cacheDir!, WARM);
    const rss0 = rssBytes(t.pid);
    const zone0 = sharedAnonRss(t.pid);
    await fill(t, bytes, '', count);
    const dir1 = await cacheFiles(t.cacheDir!, WARM + count);
    if (dir1.files - dir0.files !== count) {
      throw new Error(`nginx wrote ${dir1.files - dir0.files} cache files for ${count} objects`);
    }
    return {
      target: 'nginx',
      via: 'proxy',
      objectBytes: bytes,
      rss: (rssBytes(t.pid) - rss0) / count,
      zone: (sharedAnonRss(t.pid) - zone0) / count,
      disk: (dir1.allocated - dir0.allocated) / count,
      apparent: (dir1.apparent - dir0.apparent) / count,
    };
  } finally {
    await stopTarget(t);
  }
}
