/**
 * A/B of target scripts on one origin, for trimming work: each `name=path/to/target.mjs` runs
 * side by side and the rounds are interleaved, so a noisy minute on a shared machine hits every
 * variant alike. Reports the median server CPU µs per request (and req/s) of each, and each one's
 * CPU ratio to the first. A path may point at a copy of a target beside a frozen copy of the
 * packages' dist (its own node_modules), which is how a change is measured against the build before it.
 *
 *   tsx proxy/ab.ts before=/tmp/snap/targets/pingora-ts.mjs after=proxy/targets/pingora-ts.mjs
 *   env: DURATION=3 (s per round), WARMUP=2, ROUNDS=7, CONNECTIONS=50, HEADERS=browser (requests
 *        carry a browser's 12 fields)
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HEAD_ARGS } from '../lib/browser-headers.js';
import { cpuSeconds, freePort, spawnNode, waitForTarget } from '../lib/procs.js';
import { wrk } from '../lib/wrk.js';

const here = dirname(fileURLToPath(import.meta.url));
const DURATION = Number(process.env.DURATION ?? 3);
const WARMUP = Number(process.env.WARMUP ?? 2);
const ROUNDS = Number(process.env.ROUNDS ?? 7);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 50);

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function main(): Promise<void> {
  const variants = process.argv.slice(2).map((a) => {
    const eq = a.indexOf('=');
    return {
      name: a.slice(0, eq),
      script: resolve(a.slice(eq + 1)),
      pid: 0,
      port: 0,
      cpu: [] as number[],
      rps: [] as number[],
    };
  });
  if (variants.length === 0) throw new Error('usage: ab.ts name=target.mjs [name=target.mjs …]');
  const originPort = await freePort();
  spawnNode(join(here, 'origin.mjs'), [originPort, await freePort()]);
  await waitForTarget(originPort);
  for (const v of variants) {
    v.port = await freePort();
    v.pid = spawnNode(v.script, [v.port, originPort]).pid!;
    await waitForTarget(v.port);
  }
  for (const v of variants)
    wrk(['-t1', `-c${CONNECTIONS}`, `-d${WARMUP}s`, ...HEAD_ARGS], `http://127.0.0.1:${v.port}/`);
  for (let r = 0; r < ROUNDS; r++) {
    // Alternate the order as well, so neither variant always runs right after the other.
    const order = r % 2 === 0 ? variants : [...variants].reverse();
    for (const v of order) {
      const c0 = cpuSeconds(v.pid);
      const m = wrk(
        ['-t1', `-c${CONNECTIONS}`, `-d${DURATION}s`, ...HEAD_ARGS],
        `http://127.0.0.1:${v.port}/`,
      );
      if (m.errors) console.error(`  note: ${v.name}: ${m.errors}`);
      v.cpu.push(((cpuSeconds(v.pid) - c0) / m.requests) * 1e6);
      v.rps.push(m.rps);
    }
    console.error(
      `round ${r + 1}: ${variants.map((v) => `${v.name} ${v.cpu.at(-1)!.toFixed(1)} µs`).join(', ')}`,
    );
  }
  // Noise on a shared machine only adds CPU time, so the best rounds say the most: the minimum
  // and the median are both printed.
  const base = Math.min(...variants[0]!.cpu);
  const baseMed = median(variants[0]!.cpu);
  for (const v of variants) {
    const c = Math.min(...v.cpu);
    const m = median(v.cpu);
    console.log(
      `${v.name}: CPU µs/req min ${c.toFixed(1)} median ${m.toFixed(1)} (${ROUNDS} rounds), ${Math.round(median(v.rps))} req/s; ratio to ${variants[0]!.name}: min ${(c / base).toFixed(3)}, median ${(m / baseMed).toFixed(3)}`,
    );
  }
  process.exit(0);
}

await main();
