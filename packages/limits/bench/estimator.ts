/**
 * Single-thread cost of counting keys: `Estimator.incr` against the naive counter a Node
 * developer would write (`Map<K, number>`), plus `Rate.observe` and an `Inflight` guard cycle.
 * Also prints the heap each structure keeps, since bounded memory is why the sketch exists.
 *
 *   pnpm --filter @pingora-ts/limits bench        (or, in the package: pnpm exec tsx bench/estimator.ts)
 *
 * Each scenario runs in its own child process so that the JIT feedback of one (string keys,
 * integer keys) does not slow down another. Within a scenario the contenders run interleaved,
 * round after round, and the fastest round of each is reported: background load then hits
 * every contender alike and the least disturbed round is the closest to the true cost.
 *
 * Env: BENCH_ROUNDS (default 9), BENCH_OPS (default 2^20 operations per round).
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { mulberry32 as prng } from '@pingora-ts/test-utils';
import { Estimator, Inflight, Rate } from '../src/index.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
const OPS = Number(process.env.BENCH_OPS ?? 1 << 20);

interface Row {
  scenario: string;
  what: string;
  ns: number;
  ratio: string;
  memory?: number;
}

interface Contender {
  what: string;
  /** Does OPS operations and returns a checksum, so the work cannot be optimised away. */
  run: () => number;
  memory?: number;
}

type Scenario = { name: string; build: () => Contender[] };

let sink = 0;

const rnd = prng(2024);

/** `OPS` draws from a Zipf(s) distribution over `n` ranks (rank 0 most frequent). */
function zipfDraws(n: number, s: number): Int32Array {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) cdf[i] = sum += 1 / (i + 1) ** s;
  const out = new Int32Array(OPS);
  for (let k = 0; k < OPS; k++) {
    const u = rnd() * sum;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    out[k] = lo;
  }
  return out;
}

function uniformDraws(n: number): Int32Array {
  const out = new Int32Array(OPS);
  for (let k = 0; k < OPS; k++) out[k] = Math.floor(rnd() * n);
  return out;
}

/**
 * Distinct app-id-like keys (a prefix and 12 hex digits), as flat one-byte strings like the
 * header values the HTTP parser produces (template literals would leave slower cons strings).
 */
function stringKeys(n: number): string[] {
  const keys = new Set<string>();
  while (keys.size < n)
    keys.add(
      `app-${Math.floor(rnd() * 2 ** 48)
        .toString(16)
        .padStart(12, '0')}`,
    );
  return [...keys].map((k) => Buffer.from(k, 'latin1').toString('latin1'));
}

/** Heap kept by what `build` returns, measured around full GCs. */
function retained(build: () => unknown): number {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  const before = process.memoryUsage().heapUsed;
  const kept = build();
  gc();
  const after = process.memoryUsage().heapUsed;
  sink += kept ? 1 : 0;
  return Math.max(0, after - before);
}

function mapMemory<K>(keys: (i: number) => K, draws: Int32Array): number {
  return retained(() => {
    const m = new Map<K, number>();
    for (let i = 0; i < OPS; i++) {
      const k = keys(draws[i]!);
      m.set(k, (m.get(k) ?? 0) + 1);
    }
    return m;
  });
}

const MAP = 'naive `Map<K, number>` get + set';

const scenarios: Scenario[] = [
  {
    // A realistic limiter load: 10k distinct app ids, a few of them hot.
    name: '10k app ids, Zipf 1.0',
    build() {
      const keys = stringKeys(10_000);
      const draws = zipfDraws(keys.length, 1);
      const map = new Map<string, number>();
      const est = new Estimator(4, 1024);
      return [
        {
          what: MAP,
          run() {
            let acc = 0;
            for (let i = 0; i < OPS; i++) {
              const k = keys[draws[i]!]!;
              const v = (map.get(k) ?? 0) + 1;
              map.set(k, v);
              acc += v;
            }
            return acc;
          },
          memory: mapMemory((i) => keys[i]!, draws),
        },
        {
          what: '`Estimator(4, 1024).incr`',
          run() {
            let acc = 0;
            for (let i = 0; i < OPS; i++) acc += est.incr(keys[draws[i]!]!, 1);
            return acc;
          },
          memory: 4 * 1024 * 8,
        },
      ];
    },
  },
  {
    // As a server sees them: every key a fresh string decoded from bytes. V8 caches a string's
    // hash in the string, so the Map above never hashed; here it must, once per request.
    name: '10k app ids, Zipf 1.0, fresh strings',
    build() {
      const keys = stringKeys(10_000);
      const draws = zipfDraws(keys.length, 1);
      const packed = Buffer.from(keys.join(''), 'latin1');
      const at = new Int32Array(keys.length + 1);
      keys.forEach((k, i) => {
        at[i + 1] = at[i]! + k.length;
      });
      const map = new Map<string, number>();
      const est = new Estimator(4, 1024);
      return [
        {
          what: MAP,
          run() {
            let acc = 0;
            for (let i = 0; i < OPS; i++) {
              const d = draws[i]!;
              const k = packed.toString('latin1', at[d]!, at[d + 1]!);
              const v = (map.get(k) ?? 0) + 1;
              map.set(k, v);
              acc += v;
            }
            return acc;
          },
        },
        {
          what: '`Estimator(4, 1024).incr`',
          run() {
            let acc = 0;
            for (let i = 0; i < OPS; i++) {
              const d = draws[i]!;
              acc += est.incr(packed.toString('latin1', at[d]!, at[d + 1]!), 1);
            }
            return acc;
          },
        },
        {
          what: 'decoding the key alone (included in both rows above)',
          run() {
            let acc = 0;
            for (let i = 0; i < OPS; i++) {
              const d = draws[i]!;
              acc += packed.toString('latin1', at[d]!, at[d + 1]!).length;
            }
            return acc;
          },
        },
      ];
    },
  },
  {
    // Pingora's own benchmark: uniform over 1M integer keys, Estimator(3, 1024).
    name: "1M integer keys, uniform (Pingora's bench)",
    build() {
      const draws = uniformDraws(1_000_000);
      const map = new Map<number, number>();
      const est = new Estimator(3, 1024);
      return [
        {
          what: MAP,
          run() {
            let acc = 0;
            for (let i = 0; i < OPS; i++) {
              const k = draws[i]!;
              const v = (map.get(k) ?? 0) + 1;
              map.set(k, v);
              acc += v;
            }
            return acc;
          },
          memory: mapMemory((i) => i, draws),
        },
        {
          what: '`Estimator(3, 1024).incr`',
          run() {
            let acc = 0;
            for (let i = 0; i < OPS; i++) acc += est.incr(draws[i]!, 1);
            return acc;
          },
          memory: 3 * 1024 * 8,
        },
      ];
    },
  },
  {
    // Many distinct clients (a scan, a botnet): 1M string keys, uniform.
    name: '1M string keys, uniform',
    build() {
      const keys = stringKeys(1_000_000);
      const draws = uniformDraws(keys.length);
      const map = new Map<string, number>();
      const est = new Estimator(4, 1024);
      return [
        {
          what: MAP,
          run() {
            let acc = 0;
            for (let i = 0; i < OPS; i++) {
              const k = keys[draws[i]!]!;
              const v = (map.get(k) ?? 0) + 1;
              map.set(k, v);
              acc += v;
            }
            return acc;
          },
          memory: mapMemory((i) => keys[i]!, draws),
        },
        {
          what: '`Estimator(4, 1024).incr`',
          run() {
            let acc = 0;
            for (let i = 0; i < OPS; i++) acc += est.incr(keys[draws[i]!]!, 1);
            return acc;
          },
          memory: 4 * 1024 * 8,
        },
      ];
    },
  },
  {
    // The limiters on the app-id load, against the bare sketch they are built on.
    name: '10k app ids, Zipf 1.0 (limiters)',
    build() {
      const keys = stringKeys(10_000);
      const draws = zipfDraws(keys.length, 1);
      const est = new Estimator(4, 1024);
      const perf = new Rate(1000);
      let t = 0;
      const fixed = new Rate(1000, { now: () => t });
      const inflight = new Inflight();
      return [
        {
          what: '`Estimator(4, 1024).incr`',
          run() {
            let acc = 0;
            for (let i = 0; i < OPS; i++) acc += est.incr(keys[draws[i]!]!, 1);
            return acc;
          },
        },
        {
          what: '`Rate(1000).observe`, default clock (`performance.now()`)',
          run() {
            let acc = 0;
            for (let i = 0; i < OPS; i++) acc += perf.observe(keys[draws[i]!]!, 1);
            return acc;
          },
        },
        {
          what: '`Rate(1000).observe`, injected clock',
          run() {
            let acc = 0;
            for (let i = 0; i < OPS; i++) acc += fixed.observe(keys[draws[i]!]!, 1);
            t += 1000;
            return acc;
          },
        },
        {
          what: '`Inflight.acquire` + `release` (4 × 8192)',
          run() {
            let acc = 0;
            for (let i = 0; i < OPS; i++) {
              const g = inflight.acquire(keys[draws[i]!]!, 1);
              acc += g.count;
              g.release();
            }
            return acc;
          },
        },
      ];
    },
  },
];

/** Best ns/op of each contender over interleaved rounds; the first contender is the baseline. */
function runScenario(s: Scenario): Row[] {
  const contenders = s.build();
  for (const c of contenders) sink += c.run();
  const best = contenders.map(() => Number.POSITIVE_INFINITY);
  for (let r = 0; r < ROUNDS; r++) {
    contenders.forEach((c, i) => {
      const t0 = process.hrtime.bigint();
      sink += c.run();
      best[i] = Math.min(best[i]!, Number(process.hrtime.bigint() - t0) / OPS);
    });
  }
  return contenders.map((c, i) => ({
    scenario: s.name,
    what: c.what,
    ns: best[i]!,
    ratio: `${(best[i]! / best[0]!).toFixed(2)}×`,
    memory: c.memory,
  }));
}

function child(name: string): void {
  const scenario = scenarios.find((s) => s.name === name);
  if (!scenario) throw new Error(`unknown scenario ${name}`);
  process.send?.({ rows: runScenario(scenario), sink });
}

async function main(): Promise<void> {
  const self = fileURLToPath(import.meta.url);
  const rows: Row[] = [];
  for (const s of scenarios) {
    const result = await new Promise<Row[]>((resolve, reject) => {
      let got: Row[] | undefined;
      const proc = fork(self, [s.name], { stdio: 'inherit' });
      proc.on('message', (m: { rows: Row[] }) => {
        got = m.rows;
      });
      proc.on('error', reject);
      proc.on('exit', (code) => (got ? resolve(got) : reject(new Error(`${s.name}: exit ${code}`))));
    });
    rows.push(...result);
  }
  const kib = (b: number | undefined) => (b === undefined ? '' : `${Math.round(b / 1024)} KiB`);
  console.log(`Node ${process.version}, ${OPS} ops per round, best of ${ROUNDS} interleaved rounds\n`);
  console.log('| keys | counter | ns/op | time vs first row | heap kept |');
  console.log('|---|---|---:|---:|---:|');
  for (const r of rows) {
    console.log(`| ${r.scenario} | ${r.what} | ${r.ns.toFixed(1)} | ${r.ratio} | ${kib(r.memory)} |`);
  }
}

const scenarioArg = process.argv[2];
if (scenarioArg) child(scenarioArg);
else await main();
