/**
 * Pingora's `bench_hit_ratio`, reproduced: 10,000 items, 5,000,000 zipf draws per cell, get and put
 * on miss, cache sizes 0.5/1/5/10/25 % of the items, zipf exponents 0.9/1.0/1.05/1.1/1.5. TinyUFO
 * is compared with Pingora's recorded figures and with npm `lru-cache`.
 *
 *   pnpm exec tsx bench/hit-ratio.ts            # full run (about a minute)
 *   ITERATIONS=500000 pnpm exec tsx bench/hit-ratio.ts
 */
import { LRUCache } from 'lru-cache';
import { TinyUfo } from '../src/index.js';
import { Rng, Zipf } from './zipf.js';

const ITEMS = 10_000;
const ITERATIONS = Number(process.env.ITERATIONS ?? 5_000_000);
const EXPONENTS = [0.9, 1.0, 1.05, 1.1, 1.5];
const SIZES = [0.005, 0.01, 0.05, 0.1, 0.25];

// Pingora's recorded TinyUFO figures (tinyufo/benches/bench_hit_ratio.rs, reference §8), in %.
const PINGORA: Record<string, number[]> = {
  '0.9': [33.35, 40.06, 57.8, 66.36, 78.53],
  '1': [45.15, 52.3, 68.79, 75.92, 85.28],
  '1.05': [51.12, 58.41, 73.93, 80.24, 88.14],
  '1.1': [57.28, 64.24, 78.55, 84.01, 90.66],
  '1.5': [89.69, 92.94, 97.23, 98.24, 99.09],
};

interface Cell {
  tinyufo: number;
  compact: number;
  lru: number;
}

function runCell(exponent: number, sizeFraction: number, seed: number): Cell {
  // Rust: `(cache_size_percent * ITEMS as f32).round()`.
  const cacheSize = Math.round(Math.fround(Math.fround(sizeFraction) * ITEMS));
  const tinyufo = new TinyUfo<number, boolean>(cacheSize, cacheSize);
  const compact = TinyUfo.compact<number, boolean>(cacheSize, cacheSize);
  const lru = new LRUCache<number, boolean>({ max: cacheSize });
  const zipf = new Zipf(ITEMS, exponent, new Rng(seed));
  let tinyufoHit = 0;
  let compactHit = 0;
  let lruHit = 0;
  for (let i = 0; i < ITERATIONS; i++) {
    const key = zipf.sample();
    if (tinyufo.get(key) !== undefined) tinyufoHit++;
    else tinyufo.put(key, true, 1);
    if (compact.get(key) !== undefined) compactHit++;
    else compact.put(key, true, 1);
    if (lru.get(key) !== undefined) lruHit++;
    else lru.set(key, true);
  }
  const pct = (n: number) => (n / ITERATIONS) * 100;
  return { tinyufo: pct(tinyufoHit), compact: pct(compactHit), lru: pct(lruHit) };
}

const f2 = (n: number) => n.toFixed(2);
const signed = (n: number) => (n >= 0 ? '+' : '') + n.toFixed(2);

console.log(
  `Hit ratio, ${ITEMS} items, ${ITERATIONS} zipf draws per cell, put on miss (Node ${process.version})\n`,
);
console.log(
  '| zipf | cache size | TinyUFO | Pingora TinyUFO | Δ vs Pingora (pp) | TinyUFO compact | lru-cache | TinyUFO − lru-cache (pp) |',
);
console.log('|---|---|---|---|---|---|---|---|');
let worst = 0;
let behindLru = 0;
let seed = 1;
for (const exponent of EXPONENTS) {
  SIZES.forEach((size, i) => {
    const cell = runCell(exponent, size, seed++);
    const pingora = PINGORA[String(exponent)]![i]!;
    worst = Math.max(worst, Math.abs(cell.tinyufo - pingora));
    if (cell.tinyufo <= cell.lru) behindLru++;
    console.log(
      `| ${exponent.toFixed(2)} | ${size * 100}% | ${f2(cell.tinyufo)}% | ${f2(pingora)}% | ${signed(cell.tinyufo - pingora)} | ${f2(cell.compact)}% | ${f2(cell.lru)}% | ${signed(cell.tinyufo - cell.lru)} |`,
    );
  });
}
console.log(
  `\nLargest |Δ| vs Pingora: ${worst.toFixed(2)} pp; cells where lru-cache is not behind: ${behindLru}`,
);
