/**
 * `LoadBalancer.select()` per second for each algorithm with 3 / 100 / 1 000 healthy backends,
 * against the floor of any selection: `list[i++ % n]` on a plain array (no health table, no
 * iterator). Run: `pnpm bench` (or `pnpm exec tsx bench/select.ts`) from packages/load-balancing.
 *
 * Every backend is healthy, so each call is one first pick plus one health-table lookup: the
 * per-request cost on a proxy's hot path. LeastConnections is measured as acquire + release.
 */
import { nsPerOp } from '@pingora-ts/test-utils';
import {
  type BackendSelection,
  type BackendSelectionBuilder,
  Consistent,
  FNVHash,
  LeastConnections,
  LoadBalancer,
  Random,
  RoundRobin,
} from '../src/index.js';

const human = (opsPerSec: number) =>
  opsPerSec >= 1e6 ? `${(opsPerSec / 1e6).toFixed(1)} M` : `${(opsPerSec / 1e3).toFixed(0)} k`;

const addrs = (n: number) =>
  Array.from({ length: n }, (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:8080`);
const keys = Array.from({ length: 1024 }, (_, i) => `/api/v1/users/${(i * 2654435761) >>> 0}/profile`);

const algorithms: Array<[string, BackendSelectionBuilder<BackendSelection>, 'select' | 'lease']> = [
  ['RoundRobin', RoundRobin, 'select'],
  ['Random', Random, 'select'],
  ['FNVHash (URI key)', FNVHash, 'select'],
  ['Consistent (URI key)', Consistent, 'select'],
  ['LeastConnections (acquire+release)', LeastConnections, 'lease'],
];
const sizes = [3, 100, 1000];

console.log(`node ${process.version}, ${process.arch}; median of 5 rounds; all backends healthy\n`);
const floor = sizes.map((n) => {
  const list = addrs(n);
  let i = 0;
  return nsPerOp(() => list[i++ % n], 200);
});
const rows: string[][] = [
  ['`list[i++ % n]` (floor)', ...floor.map((ns) => `${human(1e9 / ns)} (${ns.toFixed(0)} ns)`)],
];
for (const [name, builder, mode] of algorithms) {
  const cells: string[] = [];
  sizes.forEach((n, s) => {
    const lb = LoadBalancer.tryFromIter(builder, addrs(n));
    let i = 0;
    const ns =
      mode === 'lease'
        ? nsPerOp(() => lb.acquire('', 256)!.release(), 200)
        : nsPerOp(() => lb.select(keys[i++ & 1023]!, 256), 200);
    cells.push(`${human(1e9 / ns)} (${ns.toFixed(0)} ns, ${(ns / floor[s]!).toFixed(1)}× floor)`);
  });
  rows.push([name, ...cells]);
}
const header = ['select() per second', ...sizes.map((n) => `${n} backends`)];
console.log(`| ${header.join(' | ')} |`);
console.log(`|---|${sizes.map(() => '---:').join('|')}|`);
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
