/**
 * Speed and memory: TinyUfo (TypeScript core, compact, native core) side by side with npm
 * `lru-cache`, single thread. Every (case, implementation) runs in its own child process, so no
 * implementation inherits another's JIT feedback or garbage.
 *
 *   node --expose-gc --import tsx bench/speed.ts            # both tables (about 5 minutes)
 *   node --expose-gc --import tsx bench/speed.ts memory     # memory only
 *
 * Workloads follow Pingora's `bench_perf.rs`: reads of 100 cached items drawn zipf(1.03); mixed
 * get + put-on-miss with a 1,000-item cache over 10,000 items drawn zipf(1.3). Added here: reads
 * over 10,000 items (number and string keys), a put-only miss stream, and the sketch alone.
 * Keys are drawn before timing. The machine may be shared, so each child keeps the fastest of 15
 * runs of 500,000 operations, and the driver keeps the fastest of 3 rounds that alternate the
 * implementations (the minimum is the estimate least disturbed by other processes).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LRUCache } from 'lru-cache';
import { isNativeEnabled, TinyUfo } from '../src/index.js';
import { coreOf } from '../src/tiny-ufo.js';
import { Rng, Zipf } from './zipf.js';

type ImplName = 'lru-cache' | 'tinyufo' | 'tinyufo-compact' | 'tinyufo-native';
const IMPLS: ImplName[] = ['lru-cache', 'tinyufo', 'tinyufo-compact', 'tinyufo-native'];
const OPS = 500_000;
const RUNS = 15;
const ROUNDS = Number(process.env.ROUNDS ?? 3);

interface SimpleCache<K> {
  get(k: K): unknown;
  put(k: K): void;
}

function makeCache<K extends number | string>(impl: ImplName, size: number, estimate = size): SimpleCache<K> {
  if (impl === 'lru-cache') {
    const c = new LRUCache<K, boolean>({ max: size });
    return { get: (k) => c.get(k), put: (k) => void c.set(k, true) };
  }
  const c =
    impl === 'tinyufo-compact'
      ? TinyUfo.compact<K, boolean>(size, estimate)
      : new TinyUfo<K, boolean>(size, estimate, { native: impl === 'tinyufo-native' });
  return { get: (k) => c.get(k), put: (k) => void c.put(k, true) };
}

const strKey = (i: number) => `user:${i * 7919}:profile`;

function keys<K>(n: number, draw: () => number, map: (i: number) => K): K[] {
  const out = new Array<K>(n);
  for (let i = 0; i < n; i++) out[i] = map(draw());
  return out;
}

function time(loop: () => void): number {
  loop(); // warm-up
  const samples: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = process.hrtime.bigint();
    loop();
    samples.push(Number(process.hrtime.bigint() - t0) / OPS);
  }
  return Math.min(...samples);
}

const CASES: Record<string, { title: string; run: (impl: ImplName) => number }> = {
  'read-100': {
    title: 'get, 100 cached items, zipf 1.03 (Pingora bench_perf read)',
    run: (impl) => {
      const cache = makeCache<number>(impl, 110, 10);
      for (let i = 1; i <= 100; i++) cache.put(i);
      const ks = keys(OPS, zipfDraw(100, 1.03), (i) => i);
      return time(() => {
        for (let i = 0; i < OPS; i++) cache.get(ks[i]!);
      });
    },
  },
  'read-10k': {
    title: 'get, 10,000 cached items, uniform, number keys',
    run: (impl) => readMany(impl, (i) => i),
  },
  'read-10k-str': {
    title: 'get, 10,000 cached items, uniform, string keys',
    run: (impl) => readMany(impl, strKey),
  },
  mixed: {
    title: 'get + put on miss, cache 1,000 of 10,000 items, zipf 1.3 (Pingora bench_perf mixed)',
    run: (impl) => mixed(impl, (i) => i),
  },
  'mixed-str': {
    title: 'get + put on miss, cache 1,000 of 10,000 items, zipf 1.3, string keys',
    run: (impl) => mixed(impl, strKey),
  },
  'put-miss': {
    title: 'put of new keys into a full 1,000-item cache (every put evicts)',
    run: (impl) => {
      const cache = makeCache<number>(impl, 1000);
      let next = 0;
      return time(() => {
        for (let i = 0; i < OPS; i++) cache.put(next++);
      });
    },
  },
  sketch: {
    title: 'TinyLFU sketch increment alone (10,000-item sketch, 14 rows)',
    run: (impl) => {
      if (impl === 'lru-cache' || impl === 'tinyufo-compact') return Number.NaN;
      const core = coreOf(new TinyUfo(10_000, 10_000, { native: impl === 'tinyufo-native' }));
      const rng = new Rng(3);
      const hashes = new Int32Array(2 * 65536).map(() => rng.u32() | 0);
      return time(() => {
        for (let i = 0; i < OPS; i++) {
          const j = (i & 65535) * 2;
          core.sketchIncr(hashes[j]!, hashes[j + 1]!);
        }
      });
    },
  },
};

function zipfDraw(n: number, s: number): () => number {
  const z = new Zipf(n, s, new Rng(11));
  return () => z.sample();
}

function readMany<K extends number | string>(impl: ImplName, map: (i: number) => K): number {
  const cache = makeCache<K>(impl, 10_000);
  const rng = new Rng(5);
  for (let i = 0; i < 10_000; i++) cache.put(map(i));
  const ks = keys(OPS, () => Math.floor(rng.next() * 10_000), map);
  return time(() => {
    for (let i = 0; i < OPS; i++) cache.get(ks[i]!);
  });
}

function mixed<K extends number | string>(impl: ImplName, map: (i: number) => K): number {
  const cache = makeCache<K>(impl, 1000);
  const ks = keys(OPS, zipfDraw(10_000, 1.3), map);
  return time(() => {
    for (let i = 0; i < OPS; i++) if (cache.get(ks[i]!) === undefined) cache.put(ks[i]!);
  });
}

// Memory: bytes retained per cached entry, zero-sized values (`true`), number keys. A throwaway
// instance is filled first, so compiled code and feedback vectors are not counted as cache memory.
function fill(impl: ImplName, n: number): { cache: unknown; extra: number } {
  if (impl === 'lru-cache') {
    const c = new LRUCache<number, boolean>({ max: n });
    for (let i = 0; i < n; i++) c.set(i, true);
    return { cache: c, extra: 0 };
  }
  const c =
    impl === 'tinyufo-compact'
      ? TinyUfo.compact<number, boolean>(n, n)
      : new TinyUfo<number, boolean>(n, n, { native: impl === 'tinyufo-native' });
  for (let i = 0; i < n; i++) c.forcePut(i, true);
  if (c.size !== n) throw new Error(`expected ${n} entries, got ${c.size}`);
  // The addon's own vectors live outside the V8 heap and ArrayBuffers.
  const core = coreOf(c);
  const extra = c.native ? core.byteLength() - core.meta.byteLength - core.out.byteLength : 0;
  return { cache: c, extra };
}

// Many instances at once, so the per-instance figure stands well above GC noise.
function memory(impl: ImplName, n: number): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  const used = () => {
    gc();
    gc();
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  const copies = Math.max(4, Math.floor(200_000 / n));
  fill(impl, n);
  const before = used();
  const kept = Array.from({ length: copies }, () => fill(impl, n));
  const bytes = used() - before + kept.reduce((s, k) => s + k.extra, 0);
  return Math.round(bytes / copies);
}

function child(caseName: string, impl: ImplName): void {
  if (impl === 'tinyufo-native' && !isNativeEnabled()) {
    console.log('null');
    return;
  }
  if (caseName.startsWith('mem-')) console.log(JSON.stringify(memory(impl, Number(caseName.slice(4)))));
  else console.log(JSON.stringify(CASES[caseName]!.run(impl)));
}

function runChild(caseName: string, impl: ImplName): number | null {
  const script = fileURLToPath(import.meta.url);
  const out = execFileSync(process.execPath, [...process.execArgv, script, caseName, impl], {
    encoding: 'utf8',
  });
  return JSON.parse(out.trim().split('\n').pop()!) as number | null;
}

const fmt = (n: number | null, digits = 1) => (n === null || Number.isNaN(n) ? '–' : n.toFixed(digits));
const ratio = (a: number | null, b: number | null) =>
  a === null || b === null || Number.isNaN(a) || Number.isNaN(b) ? '–' : `${(a / b).toFixed(2)}×`;

// The fastest of ROUNDS rounds, each running every implementation once, in turn.
function best(caseName: string): Record<ImplName, number | null> {
  const r = {} as Record<ImplName, number | null>;
  for (let round = 0; round < ROUNDS; round++) {
    for (const impl of IMPLS) {
      const t = runChild(caseName, impl);
      const prev = r[impl];
      r[impl] = t === null ? null : prev === undefined || prev === null ? t : Math.min(prev, t);
    }
  }
  return r;
}

function speedTable(): void {
  console.log(
    `Node ${process.version}, ${process.arch}; ns/op, fastest of ${ROUNDS} rounds × ${RUNS} runs × ${OPS} ops\n`,
  );
  console.log(
    '| workload | lru-cache | TinyUfo | lru-cache ÷ TinyUfo | TinyUfo compact | TinyUfo native | native ÷ TS (<1 = native faster) |',
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const [name, c] of Object.entries(CASES)) {
    const r = best(name);
    console.log(
      `| ${c.title} | ${fmt(r['lru-cache'])} | ${fmt(r.tinyufo)} | ${ratio(r['lru-cache'], r.tinyufo)} | ${fmt(r['tinyufo-compact'])} | ${fmt(r['tinyufo-native'])} | ${ratio(r['tinyufo-native'], r.tinyufo)} |`,
    );
  }
}

function memoryTable(): void {
  console.log('\nMemory: bytes per cache, zero-sized values, after GC (heapUsed + arrayBuffers; the native');
  console.log('core adds its C++ vectors); bytes per entry in parentheses\n');
  console.log('| entries | lru-cache | TinyUfo | TinyUfo compact | TinyUfo native |');
  console.log('|---|---|---|---|---|');
  for (const n of [100, 1000, 10_000]) {
    const r = IMPLS.map((i) => runChild(`mem-${n}`, i));
    const cell = (b: number | null) =>
      b === null ? '–' : `${b.toLocaleString('en-US')} (${(b / n).toFixed(0)})`;
    console.log(`| ${n} | ${r.map(cell).join(' | ')} |`);
  }
}

const [caseArg, implArg] = process.argv.slice(2);
if (caseArg && implArg) child(caseArg, implArg as ImplName);
else {
  // `speed.ts memory` or `speed.ts speed` runs one table; no argument runs both.
  if (caseArg !== 'memory') speedTable();
  if (caseArg !== 'speed') memoryTable();
}
