/**
 * Cache benchmark: pingora-ts as a caching proxy (`MemoryStorage`, LRU eviction, `CacheLock`)
 * against nginx's `proxy_cache` (one worker, `proxy_cache_lock on`), the same origin and the same
 * machine, in one run, reported as pingora-ts / nginx ratios:
 *   1. the hit path: wrk on cached keys (one URL, then 100), req/s, p99 and proxy CPU per request,
 *      with the origin required to see nothing while wrk runs;
 *   2. the stampede: 1,000 clients at once on one uncached key the origin is slow to answer, how
 *      many requests reach the origin and how long the waiters wait;
 *   3. memory per cached object, 1 KiB and 100 KiB, filled through each proxy (and, for pingora-ts,
 *      straight into its storage as well).
 * A target that fails a step is reported and left out of the rest; the run goes on with the others
 * and exits non-zero at the end.
 *
 *   pnpm --filter @pingora-ts/benches bench:cache
 *   env: DURATION=6 (s per hit round), WARMUP=2, ROUNDS=3, CONNECTIONS=50, STAMPEDE=1000 (clients),
 *        ORIGIN_DELAY=300 (ms), OBJECTS=10000 (per memory row), TARGETS=pingora-ts,nginx,
 *        STEPS=hit,stampede,memory
 * The stampede holds STAMPEDE connections open at both ends on this machine: the run checks that
 * `ulimit -n` allows that and says so when it does not (raise it in the shell first).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnNode, freePort, waitForTarget } from '../lib/procs.js';
import { type HitResults, runHits } from './hit.js';
import { type MemoryRow, measureNginx, measurePingora, measureStorage } from './memory.js';
import { printHits, printMemory, printStampedes } from './report.js';
import { runStampedes, type StampedeResults } from './stampede.js';
import {
  type CacheTarget,
  checkCaching,
  startTarget,
  TARGET_NAMES,
  type TargetEnv,
  type TargetName,
} from './targets.js';

const here = dirname(fileURLToPath(import.meta.url));
const DURATION = Number(process.env.DURATION ?? 6);
const WARMUP = Number(process.env.WARMUP ?? 2);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 50);
const STAMPEDE = Number(process.env.STAMPEDE ?? 1000);
const ORIGIN_DELAY = Number(process.env.ORIGIN_DELAY ?? 300);
const OBJECTS = Number(process.env.OBJECTS ?? 10_000);
const TARGETS = (process.env.TARGETS ?? TARGET_NAMES.join(',')).split(',') as TargetName[];
const STEPS = new Set((process.env.STEPS ?? 'hit,stampede,memory').split(','));
const OBJECT_SIZES = [1024, 100 * 1024];
/** pingora-ts's storage budget for the hit and stampede steps: far more than they cache. */
const STORAGE_MIB = 512;

for (const name of TARGETS) {
  if (!TARGET_NAMES.includes(name))
    throw new Error(`unknown target ${name}; known: ${TARGET_NAMES.join(', ')}`);
}

// The client, the proxy and (for nginx) its worker each hold a descriptor per stampede connection.
const openFiles = Number(/^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1]);
if (STEPS.has('stampede') && openFiles < STAMPEDE + 256) {
  console.error(
    `note: ulimit -n is ${openFiles}, too low for ${STAMPEDE} connections: raise it (ulimit -n ${STAMPEDE * 2 + 512}) or the stampede reports EMFILE errors`,
  );
}

const failures: string[] = [];
function fail(name: string, step: string, e: unknown): void {
  const msg = e instanceof Error ? e.message : String(e);
  failures.push(`${name} (${step}): ${msg}`);
  console.error(`ERROR ${name} (${step}): ${msg}; going on without it`);
}

const t0 = performance.now();
const elapsed = (): string => `${((performance.now() - t0) / 1000).toFixed(0)} s`;

async function main(env: TargetEnv, statsPort: number): Promise<void> {
  const targets: CacheTarget[] = [];
  for (const name of TARGETS) {
    try {
      const t = await startTarget(name, env, STORAGE_MIB);
      await checkCaching(t, statsPort, `/hit/check-${name}`);
      targets.push(t);
    } catch (e) {
      fail(name, 'start', e);
    }
  }
  let hits: HitResults = {};
  let stampedes: StampedeResults = {};
  if (STEPS.has('hit')) {
    hits = await runHits(
      targets,
      { here, statsPort, durationS: DURATION, warmupS: WARMUP, rounds: ROUNDS, connections: CONNECTIONS },
      (t, e) => fail(t.name, 'hit path', e),
    );
    for (const per of Object.values(hits)) {
      for (const [name, rounds] of Object.entries(per)) {
        const leaked = rounds.reduce((n, r) => n + r.originRequests, 0);
        if (leaked > 0) fail(name, 'hit path', new Error(`the origin got ${leaked} requests while wrk ran`));
      }
    }
    console.error(`hit path done at ${elapsed()}`);
  }
  if (STEPS.has('stampede')) {
    stampedes = await runStampedes(
      targets,
      { statsPort, clients: STAMPEDE, rounds: ROUNDS, originDelayMs: ORIGIN_DELAY },
      (t, e) => fail(t.name, 'stampede', e),
    );
    console.error(`stampede done at ${elapsed()}`);
  }
  const memory: MemoryRow[] = [];
  if (STEPS.has('memory')) {
    const caching = new Set(targets.map((t) => t.name));
    for (const bytes of OBJECT_SIZES) {
      const steps: Array<[TargetName, string, () => Promise<MemoryRow>]> = [
        ['pingora-ts', 'memory via proxy', () => measurePingora(env, bytes, OBJECTS)],
        ['pingora-ts', 'memory via MemoryStorage', () => measureStorage(here, bytes, OBJECTS)],
        ['nginx', 'memory via proxy', () => measureNginx(env, bytes, OBJECTS)],
      ];
      for (const [name, step, run] of steps) {
        if (!TARGETS.includes(name)) continue;
        // A proxy that failed the caching check would only fail again, slowly.
        if (step.endsWith('proxy') && !caching.has(name)) {
          console.error(`skipping ${name} ${step} for ${bytes}-byte objects: it failed at start`);
          continue;
        }
        try {
          const row = await run();
          memory.push(row);
          console.error(
            `${step} ${row.target} ${bytes} B: RSS ${row.rss.toFixed(0)} B/object${row.heap === undefined ? '' : `, heap+external ${row.heap.toFixed(0)} B/object`}`,
          );
        } catch (e) {
          fail(name, `${step}, ${bytes}-byte objects`, e);
        }
      }
    }
    console.error(`memory done at ${elapsed()}`);
  }

  console.log(
    `\nCache benchmark, Node ${process.version}, ${availableParallelism()} cores shared by the load tool, the proxy and the origin. pingora-ts: MemoryStorage + LRU + CacheLock; nginx: proxy_cache, 1 worker, proxy_cache_lock on.\n`,
  );
  if (STEPS.has('hit')) {
    console.log(
      `Hit path: 1 KiB cacheable body, wrk -t1 -c${CONNECTIONS} -d${DURATION}s, ${ROUNDS} rounds alternating the targets' order after ${WARMUP}s warm-up, medians.\n`,
    );
    printHits(hits, TARGETS);
  }
  if (STEPS.has('stampede')) {
    console.log(
      `\nStampede: ${STAMPEDE} concurrent requests, each on its own connection, for one uncached key; the origin answers after ${ORIGIN_DELAY} ms; ${ROUNDS} rounds with a fresh key each, medians.\n`,
    );
    printStampedes(stampedes, STAMPEDE, TARGETS);
  }
  if (STEPS.has('memory')) {
    console.log('\nMemory per cached object:\n');
    printMemory(memory, OBJECTS);
  }
  if (failures.length > 0) {
    console.log('\nFailed:');
    for (const f of failures) console.log(`- ${f}`);
  }
}

const originPort = await freePort();
const statsPort = await freePort();
spawnNode(join(here, 'origin.mjs'), [originPort, statsPort, ORIGIN_DELAY]);
await waitForTarget(originPort);
const prefix = mkdtempSync(join(tmpdir(), 'pingora-ts-bench-cache-'));
// Registered after procs.ts's handler, so the processes are killed before their files go.
process.on('exit', () => rmSync(prefix, { recursive: true, force: true, maxRetries: 3 }));
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));
try {
  await main({ here, originPort, prefix }, statsPort);
} catch (e) {
  failures.push(e instanceof Error ? (e.stack ?? e.message) : String(e));
  console.error(e);
}
process.exit(failures.length > 0 ? 1 : 0);
