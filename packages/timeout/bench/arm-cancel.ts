/**
 * Arm-and-cancel cost of this package's timers against Node's own.
 *
 *   pnpm exec tsx bench/arm-cancel.ts          (from packages/timeout)
 *
 * Every case arms 30 s timers with a shared no-op callback, so nothing ever fires, next to one
 * other pending 30 s `setTimeout` (see `runCase`). Each case runs in its own child process,
 * because the heap a case leaves behind (a million dead timers) skews whatever runs after it by
 * 2-3x. In the child: one warm-up round, then ROUNDS measured rounds with a turn of the event
 * loop between them. No forced GC: it shrinks the young generation and makes short-lived
 * allocations look 3x dearer than they are in a running server. The table shows the median ns
 * per timer; the GC-bound cases (a million live timers) vary by ±50% from run to run.
 *
 * "turn clock" is the default manager: the clock is read once per event-loop turn, so a loop of a
 * million arms reads it once. "clock per op" is a manager whose provider has no `setImmediate`,
 * so every arm and refresh reads the clock: the cost when each operation runs in its own turn
 * (one I/O callback each), which is the worst case for a proxy.
 */
import { execFileSync } from 'node:child_process';
import { defaultTimerProvider, type FastTimer, TimerManager } from '../src/index.js';

const N = 1_000_000;
const N_SIGNAL = 100_000;
const REFRESHES = 10;
const ROUNDS = 9;
const MS = 30_000;

const noop = (): void => {};
const turnClock = (): TimerManager => new TimerManager();
const opClock = (): TimerManager =>
  new TimerManager({ provider: { ...defaultTimerProvider, setImmediate: undefined } });

interface Case {
  scenario: string;
  name: string;
  baseline?: boolean;
  ops: number;
  /** Returns one round's body; called once per process so the manager outlives the rounds. */
  setup(): () => void;
}

function batchFast(make: () => TimerManager) {
  return () => {
    const m = make();
    const fast: FastTimer[] = new Array(N);
    return () => {
      for (let i = 0; i < N; i++) fast[i] = m.fastTimeout(noop, MS);
      for (let i = 0; i < N; i++) fast[i]!.clear();
    };
  };
}
function pairFast(make: () => TimerManager) {
  return () => {
    const m = make();
    return () => {
      for (let i = 0; i < N; i++) m.fastTimeout(noop, MS).clear();
    };
  };
}
function refreshFast(make: () => TimerManager) {
  return () => {
    const m = make();
    const fast: FastTimer[] = new Array(N);
    return () => {
      for (let i = 0; i < N; i++) fast[i] = m.fastTimeout(noop, MS);
      for (let r = 0; r < REFRESHES; r++) for (let i = 0; i < N; i++) fast[i]!.refresh();
      for (let i = 0; i < N; i++) fast[i]!.clear();
    };
  };
}

const A = 'arm 1M, then cancel them all';
const B = 'arm + cancel, one at a time';
const C = `arm + refresh ×${REFRESHES} + cancel`;
const D = 'create a timeout AbortSignal';
const cases: Case[] = [
  {
    scenario: A,
    name: 'setTimeout + clearTimeout',
    baseline: true,
    ops: N,
    setup() {
      const node: NodeJS.Timeout[] = new Array(N);
      return () => {
        for (let i = 0; i < N; i++) node[i] = setTimeout(noop, MS);
        for (let i = 0; i < N; i++) clearTimeout(node[i]);
      };
    },
  },
  { scenario: A, name: 'fastTimeout + clear (turn clock)', ops: N, setup: batchFast(turnClock) },
  { scenario: A, name: 'fastTimeout + clear (clock per op)', ops: N, setup: batchFast(opClock) },
  {
    scenario: B,
    name: 'setTimeout + clearTimeout',
    baseline: true,
    ops: N,
    setup() {
      return () => {
        for (let i = 0; i < N; i++) clearTimeout(setTimeout(noop, MS));
      };
    },
  },
  { scenario: B, name: 'fastTimeout + clear (turn clock)', ops: N, setup: pairFast(turnClock) },
  { scenario: B, name: 'fastTimeout + clear (clock per op)', ops: N, setup: pairFast(opClock) },
  {
    scenario: C,
    name: 'setTimeout + timer.refresh() + clearTimeout',
    baseline: true,
    ops: N,
    setup() {
      const node: NodeJS.Timeout[] = new Array(N);
      return () => {
        for (let i = 0; i < N; i++) node[i] = setTimeout(noop, MS);
        for (let r = 0; r < REFRESHES; r++) for (let i = 0; i < N; i++) node[i]!.refresh();
        for (let i = 0; i < N; i++) clearTimeout(node[i]);
      };
    },
  },
  {
    scenario: C,
    name: 'fastTimeout + refresh() + clear (turn clock)',
    ops: N,
    setup: refreshFast(turnClock),
  },
  {
    scenario: C,
    name: 'fastTimeout + refresh() + clear (clock per op)',
    ops: N,
    setup: refreshFast(opClock),
  },
  {
    scenario: D,
    name: 'AbortSignal.timeout (no cancel)',
    baseline: true,
    ops: N_SIGNAL,
    setup() {
      const signals: AbortSignal[] = new Array(N_SIGNAL);
      return () => {
        for (let i = 0; i < N_SIGNAL; i++) signals[i] = AbortSignal.timeout(MS);
      };
    },
  },
  {
    scenario: D,
    name: 'timeoutSignal (no cancel)',
    ops: N_SIGNAL,
    setup() {
      const m = turnClock();
      const signals: AbortSignal[] = new Array(N_SIGNAL);
      return () => {
        for (let i = 0; i < N_SIGNAL; i++) signals[i] = m.timeoutSignal(MS);
      };
    },
  },
];

const endTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Child: run one case, print its per-round ns/op as JSON. */
async function runCase(c: Case): Promise<void> {
  // A proxy always has other timers of the same duration in flight. Without one, every Node
  // `clearTimeout` here would empty and delete Node's list for this duration, and the next
  // `setTimeout` would rebuild it and restart the libuv timer: a cost a real server rarely pays.
  setTimeout(noop, MS).unref();
  const round = c.setup();
  const samples: number[] = [];
  for (let r = -1; r < ROUNDS; r++) {
    await endTurn();
    const t0 = process.hrtime.bigint();
    round();
    const ns = Number(process.hrtime.bigint() - t0) / c.ops;
    if (r >= 0) samples.push(ns);
  }
  process.stdout.write(JSON.stringify(samples));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/** Parent: one child process per case (same loader flags, so this works under tsx), then the table. */
function main(): void {
  const results = cases.map((_, i) => {
    const out = execFileSync(process.execPath, [...process.execArgv, process.argv[1]!, '--case', String(i)], {
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    });
    return median(JSON.parse(out) as number[]);
  });
  console.log(`Node ${process.version}, ${process.platform}-${process.arch}, median of ${ROUNDS} rounds\n`);
  console.log('| scenario | implementation | ns/op (median) | ratio (this / baseline) | speed-up |');
  console.log('|---|---|---:|---:|---:|');
  cases.forEach((c, i) => {
    const base = results[cases.findIndex((b) => b.scenario === c.scenario && b.baseline)]!;
    const ratio = results[i]! / base;
    const shown = c.baseline ? 'baseline' : ratio.toFixed(3);
    const speedup = c.baseline ? '1×' : `${(1 / ratio).toFixed(1)}×`;
    console.log(`| ${c.scenario} | ${c.name} | ${results[i]!.toFixed(1)} | ${shown} | ${speedup} |`);
  });
}

const at = process.argv.indexOf('--case');
if (at === -1) main();
else await runCase(cases[Number(process.argv[at + 1])]!);
