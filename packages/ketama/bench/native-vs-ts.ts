/**
 * The optional C++ addon vs the TypeScript implementation, on the two paths the addon serves:
 * ring build and batch lookups. The crossover points found here are the thresholds of
 * `implementation: 'auto'` in src/continuum.ts. Run: `pnpm exec tsx bench/native-vs-ts.ts`.
 */
import { Bucket, Continuum, isNativeEnabled } from '../src/index.js';
import { dur, human, makeAddrs, makeKeys, nsPerOp, table } from './harness.js';

if (!isNativeEnabled()) {
  console.log('native addon not loaded: run `pnpm run build:native` first');
  process.exit(1);
}
console.log(`node ${process.version}\n`);

console.log('### Ring build: native vs TypeScript\n');
const buildRows: string[][] = [];
for (const [n, weight] of [
  [1, 1],
  [10, 1],
  [25, 1],
  [100, 1],
  [1000, 1],
  [1000, 10],
] as const) {
  const buckets = makeAddrs(n).map((a) => new Bucket(a, weight));
  const ts = nsPerOp(() => new Continuum(buckets, { implementation: 'ts' }));
  const native = nsPerOp(() => new Continuum(buckets, { implementation: 'native' }));
  buildRows.push([
    `${n} × weight ${weight}`,
    String(n * weight * 160),
    dur(ts),
    dur(native),
    `${(ts / native).toFixed(2)}×`,
  ]);
}
table(['servers', 'points', 'TypeScript', 'native', 'native speed-up'], buildRows);

console.log('### Batch lookups (100 servers): nodeIdxs(keys) per key\n');
const buckets = makeAddrs(100).map((a) => new Bucket(a, 1));
const ts = new Continuum(buckets, { implementation: 'ts' });
const native = new Continuum(buckets, { implementation: 'native' });
const lookupRows: string[][] = [];
for (const size of [1, 4, 16, 64, 256, 1000, 100_000]) {
  const keys = makeKeys(size, size);
  const bytes = keys.map((k) => new TextEncoder().encode(k));
  const t = nsPerOp(() => ts.nodeIdxs(keys)) / size;
  const n = nsPerOp(() => native.nodeIdxs(keys)) / size;
  const nb = nsPerOp(() => native.nodeIdxs(bytes)) / size;
  const tb = nsPerOp(() => ts.nodeIdxs(bytes)) / size;
  lookupRows.push([
    String(size),
    `${human(1e9 / t)}/s`,
    `${human(1e9 / n)}/s`,
    `${(t / n).toFixed(2)}×`,
    `${human(1e9 / tb)}/s`,
    `${human(1e9 / nb)}/s`,
    `${(tb / nb).toFixed(2)}×`,
  ]);
}
table(
  [
    'keys per batch',
    'TS (strings)',
    'native (strings)',
    'native speed-up',
    'TS (Uint8Array)',
    'native (Uint8Array)',
    'native speed-up',
  ],
  lookupRows,
);

console.log('### Single lookup: node(key) in JS vs a native batch of one\n');
const keys = makeKeys(1000, 99);
let i = 0;
const single = nsPerOp(() => ts.node(keys[i++ % 1000]!));
const one = [keys[0]!];
const nativeOne = nsPerOp(() => {
  one[0] = keys[i++ % 1000]!;
  return native.nodeIdxs(one);
});
table(
  ['call', 'time per key', 'vs JS'],
  [
    ['node(key), JavaScript', dur(single), '1.00×'],
    ['nodeIdxs([key]), native', dur(nativeOne), `${(single / nativeOne).toFixed(2)}×`],
  ],
);
