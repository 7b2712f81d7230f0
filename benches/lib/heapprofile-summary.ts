/**
 * Reads a V8 sampling heap profile (the inspector's `HeapProfiler.stopSampling`) and says where the
 * allocated bytes come from, by the function that allocated them (self) and in all: a table of
 * bytes per request when the caller knows how many requests the window served.
 *
 *   tsx lib/heapprofile-summary.ts <file.heapprofile> [requests=1] [top=30]
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { frameName } from './cpuprofile-summary.js';

/** The parts of a V8 sampling heap profile this reads. */
export interface HeapProfile {
  head: HeapNode;
}

/** One call-tree node: bytes allocated by the function itself, and its callees. */
export interface HeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  selfSize: number;
  children: HeapNode[];
}

/** Allocated bytes of one function over the profile. */
export interface SelfBytes {
  frame: string;
  bytes: number;
  /** Share of all sampled bytes, 0–1. */
  share: number;
}

/** Bytes allocated by each function itself, largest first. */
export function selfBytes(p: HeapProfile): SelfBytes[] {
  const byFrame = new Map<string, number>();
  let total = 0;
  const walk = (n: HeapNode): void => {
    if (n.selfSize > 0) {
      const f = frameName(n);
      byFrame.set(f, (byFrame.get(f) ?? 0) + n.selfSize);
      total += n.selfSize;
    }
    for (const c of n.children) walk(c);
  };
  walk(p.head);
  return [...byFrame]
    .map(([frame, bytes]) => ({ frame, bytes, share: bytes / total }))
    .sort((a, b) => b.bytes - a.bytes);
}

/** Every sampled byte. */
export function totalBytes(p: HeapProfile): number {
  return selfBytes(p).reduce((s, t) => s + t.bytes, 0);
}

/** A markdown table of the top `n` allocating functions, in bytes per request. */
export function allocTable(p: HeapProfile, requests: number, n: number): string {
  const rows = selfBytes(p)
    .slice(0, n)
    .map(
      (t, i) =>
        `| ${i + 1} | ${t.frame} | ${Math.round(t.bytes / requests)} | ${(t.share * 100).toFixed(1)} % |`,
    );
  return ['| # | function (file:line) | bytes/req | share |', '|---|---|---|---|', ...rows].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [file, requests = '1', top = '30'] = process.argv.slice(2);
  if (!file) throw new Error('usage: heapprofile-summary.ts <file.heapprofile> [requests] [top]');
  const profile = JSON.parse(readFileSync(file, 'utf8')) as HeapProfile;
  console.log(`${Math.round(totalBytes(profile) / Number(requests))} bytes per request`);
  console.log(allocTable(profile, Number(requests), Number(top)));
}
