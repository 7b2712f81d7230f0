/**
 * The cache benchmark's markdown tables: the hit path, the stampede and memory per object, each
 * with pingora-ts / nginx ratios where the two measure the same thing.
 */
import { median } from '../lib/percentile.js';
import type { HitResults } from './hit.js';
import type { MemoryRow } from './memory.js';
import type { StampedeResults, StampedeRound } from './stampede.js';
import type { TargetName } from './targets.js';

const ratio = (a: number, b: number): string => (Number.isFinite(a / b) ? (a / b).toFixed(2) : '—');
const fixed = (x: number, digits: number): string => (Number.isFinite(x) ? x.toFixed(digits) : '—');

/** Bytes as `812 B` or `2.4 KiB`. */
export function formatBytes(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '—';
  return Math.abs(n) < 1024 ? `${n.toFixed(0)} B` : `${(n / 1024).toFixed(1)} KiB`;
}

/** The hit-path table: medians of the rounds, and a ratio row per scenario, for the `names` run. */
export function printHits(results: HitResults, names: readonly TargetName[]): void {
  console.log(
    '| keys | target | req/s (rounds) | req/s median | p99 ms median | proxy CPU µs/req median | origin requests while measured |',
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const [scenario, per] of Object.entries(results)) {
    const med = (name: TargetName) => {
      const rounds = per[name] ?? [];
      return {
        rounds,
        rps: median(rounds.map((r) => r.rps)),
        p99: median(rounds.map((r) => r.p99)),
        cpu: median(rounds.map((r) => r.cpuUs)),
      };
    };
    const ours = med('pingora-ts');
    const theirs = med('nginx');
    for (const [name, m] of [
      ['pingora-ts', ours],
      ['nginx', theirs],
    ] as const) {
      if (!names.includes(name)) continue;
      if (m.rounds.length === 0) {
        console.log(`| ${scenario} | ${name} | failed | — | — | — | — |`);
        continue;
      }
      const rps = m.rounds.map((r) => `${(r.rps / 1000).toFixed(1)}k`).join(' / ');
      const origin = m.rounds.map((r) => r.originRequests).join(' / ');
      console.log(
        `| ${scenario} | ${name} | ${rps} | ${fixed(m.rps, 0)} | ${fixed(m.p99, 2)} | ${fixed(m.cpu, 1)} | ${origin} |`,
      );
    }
    console.log(
      `| ${scenario} | **pingora-ts / nginx** | | **${ratio(ours.rps, theirs.rps)}** | **${ratio(ours.p99, theirs.p99)}** | **${ratio(ours.cpu, theirs.cpu)}** | |`,
    );
  }
}

/** The stampede table: per target, every round's origin count and the medians of the latencies. */
export function printStampedes(
  results: StampedeResults,
  clients: number,
  names: readonly TargetName[],
): void {
  console.log(
    `| target | origin requests per ${clients}-client burst (rounds) | waiters p50 ms | waiters p99 ms | max ms | errors (rounds) | send spread ms |`,
  );
  console.log('|---|---|---|---|---|---|---|');
  const med = (name: TargetName, f: (rounds: StampedeRound[]) => number[]): number =>
    median(f(results[name] ?? []));
  for (const name of names) {
    const rounds = results[name] ?? [];
    if (rounds.length === 0) {
      console.log(`| ${name} | failed | — | — | — | — | — |`);
      continue;
    }
    console.log(
      `| ${name} | ${rounds.map((r) => r.originRequests).join(' / ')} | ${fixed(
        med(name, (rs) => rs.map((r) => r.p50)),
        0,
      )} | ${fixed(
        med(name, (rs) => rs.map((r) => r.p99)),
        0,
      )} | ${fixed(
        med(name, (rs) => rs.map((r) => r.max)),
        0,
      )} | ${rounds.map((r) => r.errors).join(' / ')} | ${fixed(
        med(name, (rs) => rs.map((r) => r.sendSpreadMs)),
        0,
      )} |`,
    );
  }
  const p50 = (n: TargetName) => med(n, (rs) => rs.map((r) => r.p50));
  const p99 = (n: TargetName) => med(n, (rs) => rs.map((r) => r.p99));
  console.log(
    `| **pingora-ts / nginx** | | **${ratio(p50('pingora-ts'), p50('nginx'))}** | **${ratio(p99('pingora-ts'), p99('nginx'))}** | | | |`,
  );
}

/** The memory table, one row per target, way in and object size. */
export function printMemory(rows: MemoryRow[], count: number): void {
  console.log(
    `| target | filled through | object | RSS growth / object | heapUsed + external / object | keys zone / object | cache files on disk / object (apparent size) |`,
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const disk = r.disk === undefined ? '—' : `${formatBytes(r.disk)} (${formatBytes(r.apparent)})`;
    console.log(
      `| ${r.target} | ${r.via} | ${formatBytes(r.objectBytes)} | ${formatBytes(r.rss)} | ${formatBytes(r.heap)} | ${formatBytes(r.zone)} | ${disk} |`,
    );
  }
  console.log(
    `\n${count} objects per row, after 200 warm-up objects; pingora-ts figures after a full GC. nginx keeps bodies in files, so they cost page cache (reclaimable kernel memory, not in its RSS) rather than process memory.`,
  );
}
