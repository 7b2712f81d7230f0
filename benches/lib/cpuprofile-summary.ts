/**
 * Reads a V8 `.cpuprofile` (from `--cpu-prof` or the inspector) and answers two questions: where
 * does self time go, by function (name + file:line), and what do the stacks look like, as folded
 * lines (`frame;frame;frame count`) that flamegraph.pl, speedscope or inferno draw as a flame graph.
 *
 *   tsx lib/cpuprofile-summary.ts <file.cpuprofile> [top=30] [folded-out]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The parts of a V8 CPU profile this reads. */
export interface CpuProfile {
  nodes: Array<{
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
    children?: number[];
  }>;
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Self time of one function over the profile. */
export interface SelfTime {
  frame: string;
  /** µs */
  selfUs: number;
  /** Share of all sampled time, 0–1. */
  share: number;
}

type Node = CpuProfile['nodes'][number];

/**
 * `name (file:line)`: a workspace file as `<package>/<path>` (every package's bundle is
 * `dist/index.js`), anything else by its basename.
 */
export function frameName(n: Pick<Node, 'callFrame'>): string {
  const { functionName, url, lineNumber } = n.callFrame;
  const name = functionName || '(anonymous)';
  if (!url) return name;
  const path = url.replace(/^file:\/\//, '');
  const ws = /\/packages\/(.+)$/.exec(path);
  return `${name} (${ws ? ws[1] : basename(path)}:${lineNumber + 1})`;
}

/** µs of sampled time per node id: each sample owns the delta to the next sample. */
function selfByNode(p: CpuProfile): Map<number, number> {
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i + 1] ?? 0;
    self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + dt);
  }
  return self;
}

/** Self time by function, largest first; `(idle)` is left out of the shares. */
export function selfTimes(p: CpuProfile): SelfTime[] {
  const byNode = selfByNode(p);
  const byFrame = new Map<string, number>();
  let total = 0;
  for (const n of p.nodes) {
    const us = byNode.get(n.id) ?? 0;
    if (us === 0 || n.callFrame.functionName === '(idle)') continue;
    const f = frameName(n);
    byFrame.set(f, (byFrame.get(f) ?? 0) + us);
    total += us;
  }
  return [...byFrame]
    .map(([frame, selfUs]) => ({ frame, selfUs, share: selfUs / total }))
    .sort((a, b) => b.selfUs - a.selfUs);
}

/** Busy (non-idle) sampled µs. */
export function busyUs(p: CpuProfile): number {
  return selfTimes(p).reduce((s, t) => s + t.selfUs, 0);
}

/** Folded stacks, root first, weighted by µs of self time; `(root)` and `(idle)` left out. */
export function foldedStacks(p: CpuProfile): string[] {
  const byNode = selfByNode(p);
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const lines = new Map<string, number>();
  const walk = (id: number, path: string[]): void => {
    const n = byId.get(id)!;
    const name = n.callFrame.functionName;
    const here = name === '(root)' ? path : [...path, frameName(n).replaceAll(';', ',')];
    const us = byNode.get(id) ?? 0;
    if (us > 0 && name !== '(idle)' && here.length > 0) {
      const key = here.join(';');
      lines.set(key, (lines.get(key) ?? 0) + us);
    }
    for (const c of n.children ?? []) walk(c, here);
  };
  walk(p.nodes[0]!.id, []);
  return [...lines].sort((a, b) => b[1] - a[1]).map(([k, us]) => `${k} ${Math.round(us)}`);
}

/** A markdown table of the top `n` self-time functions. */
export function topTable(p: CpuProfile, n: number): string {
  const rows = selfTimes(p)
    .slice(0, n)
    .map(
      (t, i) =>
        `| ${i + 1} | ${t.frame} | ${(t.selfUs / 1000).toFixed(1)} | ${(t.share * 100).toFixed(1)} % |`,
    );
  return ['| # | function (file:line) | self ms | share |', '|---|---|---|---|', ...rows].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [file, top = '30', foldedOut] = process.argv.slice(2);
  if (!file) throw new Error('usage: cpuprofile-summary.ts <file.cpuprofile> [top] [folded-out]');
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  console.log(topTable(profile, Number(top)));
  if (foldedOut) writeFileSync(foldedOut, `${foldedStacks(profile).join('\n')}\n`);
}
