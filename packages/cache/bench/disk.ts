/**
 * Hit throughput of the storages alone: lookup, read the whole body, finish, for 100 cached keys,
 * with 1 and 64 lookups in flight (a proxy serves many requests at once; file I/O runs on libuv's
 * thread pool, so concurrency matters for the disk storage). Medians of 3 rounds.
 *
 * Run: `cd packages/cache && node --import tsx --conditions=@pingora-ts/source bench/disk.ts`
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { LruEvictionManager } from '../src/eviction/lru.js';
import { DiskStorage } from '../src/storage/disk/disk.js';
import { closeFd, openFd, readFd } from '../src/storage/disk/fd.js';
import { MemoryStorage } from '../src/storage/memory.js';
import type { HitHandler, LookupResult, Storage, StorageKey } from '../src/storage/storage.js';

interface Meta {
  status: number;
}

const KEYS = 100;
const ROUND_MS = Number(process.env.ROUND_MS ?? 1500);
const keys: StorageKey[] = Array.from({ length: KEYS }, (_, i) => ({
  hashKey: i.toString(16).padStart(32, '0'),
  userTag: '',
}));

async function fill(s: Storage<Meta>, size: number): Promise<void> {
  const body = Buffer.alloc(size, 0x61);
  for (const key of keys) {
    const miss = await s.getMissHandler(key, { status: 200 });
    await miss.writeBody(body, true);
    await miss.finish();
  }
}

type Lookup = (key: StorageKey) => Promise<LookupResult<Meta> | undefined>;

/** The floor: the same files read with a bare open, one read and a close; no parsing, no storage. */
function bareFs(disk: DiskStorage<Meta>): Lookup {
  return async (key) => {
    const fd = await openFd(disk.fileOf(key));
    const buf = Buffer.allocUnsafe(256 * 1024);
    // One read: every file here is smaller than the buffer.
    const got = await readFd(fd, buf, 0, buf.length, 0);
    closeFd(fd);
    let done = false;
    const hit: HitHandler = {
      readBody: async () => {
        if (done) return undefined;
        done = true;
        return buf.subarray(0, got);
      },
      canSeek: () => false,
      seek: () => {},
      finish: async () => {},
    };
    return { meta: { status: 200 }, hit };
  };
}

/** Hits per second with `inFlight` lookups running at once, for ROUND_MS. */
async function round(lookup: Lookup, inFlight: number, size: number, bare = false): Promise<number> {
  let ops = 0;
  const end = performance.now() + ROUND_MS;
  const worker = async (w: number) => {
    for (let i = w; performance.now() < end; i += inFlight) {
      const found = await lookup(keys[i % KEYS]!);
      if (found === undefined) throw new Error('bench: a miss');
      let got = 0;
      for (let c = await found.hit.readBody(); c !== undefined; c = await found.hit.readBody())
        got += c.byteLength;
      await found.hit.finish();
      if (!bare && got !== size) throw new Error(`bench: read ${got} of ${size} bytes`);
      ops++;
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: inFlight }, (_, w) => worker(w)));
  return ops / ((performance.now() - start) / 1000);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const root = mkdtempSync(join(tmpdir(), 'pingora-disk-bench-'));
const rows: string[] = [];
try {
  for (const size of [1024, 100 * 1024]) {
    const memory = new MemoryStorage<Meta>({ eviction: new LruEvictionManager({ maxBytes: 1 << 30 }) });
    const disk = await DiskStorage.open<Meta>({
      root: join(root, String(size)),
      eviction: new LruEvictionManager({ maxBytes: 1 << 30 }),
      serializeMeta: (m) => Buffer.from(JSON.stringify(m)),
      deserializeMeta: (b) => JSON.parse(Buffer.from(b).toString()) as Meta,
      saveIntervalMs: 0,
    });
    await fill(memory, size);
    await fill(disk, size);
    for (const inFlight of [1, 64]) {
      const result: Record<string, number> = {};
      const lookups: [string, Lookup][] = [
        ['memory', (key) => memory.lookup(key)],
        ['disk', (key) => disk.lookup(key)],
        ['bare', bareFs(disk)],
      ];
      for (const [name, lookup] of lookups) {
        const one = () => round(lookup, inFlight, size, name === 'bare');
        await one(); // warm-up
        result[name] = median([await one(), await one(), await one()]);
      }
      const k = (n: number) => `${(n / 1000).toFixed(1)}k`;
      rows.push(
        `| ${size / 1024} KiB, ${inFlight} in flight | ${k(result.memory!)} | ${k(result.disk!)} | ${k(result.bare!)} | ${(result.disk! / result.bare!).toFixed(2)} |`,
      );
    }
    await disk.close();
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
const load = loadavg()[0]!.toFixed(1);
console.log(
  `Node ${process.version}, ${KEYS} keys, hits/s (lookup, read body, finish), medians of 3 rounds, load ${load}`,
);
console.log(
  '| body, in flight | MemoryStorage | DiskStorage | bare fs: open, read, close | disk / bare fs |',
);
console.log('|---|---|---|---|---|');
for (const r of rows) console.log(r);
