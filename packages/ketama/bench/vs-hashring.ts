/**
 * @pingora-ts/ketama vs npm `hashring` (3.x, ketama-style md5 ring, 160 points per server like
 * ours). Run: `pnpm exec tsx bench/vs-hashring.ts` from packages/ketama.
 */
import HashRing from 'hashring';
import { Bucket, Continuum, isNativeEnabled } from '../src/index.js';
import { dur, human, makeAddrs, makeKeys, nsPerOp, table } from './harness.js';

console.log(`node ${process.version}, native addon ${isNativeEnabled() ? 'loaded' : 'not loaded'}\n`);

console.log('### Ring build (time per ring)\n');
const buildRows: string[][] = [];
for (const n of [10, 100, 1000]) {
  const addrs = makeAddrs(n);
  const buckets = addrs.map((a) => new Bucket(a, 1));
  const hr = nsPerOp(() => new HashRing(addrs));
  const ts = nsPerOp(() => new Continuum(buckets, { implementation: 'ts' }));
  const auto = nsPerOp(() => new Continuum(buckets));
  buildRows.push([
    String(n),
    dur(hr),
    dur(ts),
    dur(auto),
    `${(hr / ts).toFixed(1)}×`,
    `${(hr / auto).toFixed(1)}×`,
  ]);
}
table(
  ['servers', 'hashring', 'ketama (TS)', 'ketama (default)', 'hashring / TS', 'hashring / default'],
  buildRows,
);

console.log('### Lookups per second (100 servers)\n');
const addrs = makeAddrs(100);
const ring = new Continuum(addrs.map((a) => new Bucket(a, 1)));
const hashring = new HashRing(addrs);
const lookupRows: string[][] = [];
for (const [label, count] of [
  ['100,000 distinct keys', 100_000],
  ['1,000 hot keys', 1_000],
] as const) {
  const keys = makeKeys(count);
  let i = 0;
  const hr = nsPerOp(() => hashring.get(keys[i++ % count]!));
  i = 0;
  const single = nsPerOp(() => ring.node(keys[i++ % count]!));
  const batch = nsPerOp(() => ring.nodes(keys)) / count;
  lookupRows.push([
    label,
    human(1e9 / hr),
    human(1e9 / single),
    human(1e9 / batch),
    `${(hr / single).toFixed(1)}×`,
    `${(hr / batch).toFixed(1)}×`,
  ]);
}
table(
  [
    'keys',
    'hashring get/s',
    'ketama node()/s',
    'ketama nodes([...])/s',
    'node() vs hashring',
    'nodes() vs hashring',
  ],
  lookupRows,
);
console.log('hashring keeps a 5,000-entry LRU of answers: the hot-key row is mostly cache hits for it.');
