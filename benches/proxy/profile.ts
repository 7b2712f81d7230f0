/**
 * Profiles one proxy target under wrk load and reports what issue 14's trimming is steered by:
 * server CPU µs per request over unprofiled rounds (steadier than req/s on a shared machine), then
 * one profiled window summarised as self time by function plus a folded-stack file for a flame graph
 * or, with `KIND=heap`, as bytes allocated per request by function (freed objects included).
 *
 *   tsx proxy/profile.ts [target=pingora-ts]
 *   env: DURATION=5 (s per round), WARMUP=2, ROUNDS=3, CONNECTIONS=50, OUT=/tmp/pingora-ts-profile,
 *        SOURCE=1 (run packages from src through tsx, no build), TOP=25, PROFILE=0 (skip the profile),
 *        KIND=cpu|heap, HEADERS=browser (requests carry a browser's 12 fields)
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { busyUs, type CpuProfile, foldedStacks, topTable } from '../lib/cpuprofile-summary.js';
import { HEAD_ARGS } from '../lib/browser-headers.js';
import { allocTable, type HeapProfile, totalBytes } from '../lib/heapprofile-summary.js';
import { cpuSeconds, freePort, spawnNode, waitForTarget } from '../lib/procs.js';
import { wrk } from '../lib/wrk.js';

const here = dirname(fileURLToPath(import.meta.url));
const target = process.argv[2] ?? 'pingora-ts';
const DURATION = Number(process.env.DURATION ?? 5);
const WARMUP = Number(process.env.WARMUP ?? 2);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 50);
const OUT = process.env.OUT ?? '/tmp/pingora-ts-profile';
const TOP = Number(process.env.TOP ?? 25);
const KIND = process.env.KIND === 'heap' ? 'heap' : 'cpu';
const hook = join(here, 'profile-hook.mjs');
const profileFile = join(OUT, `${target}.${KIND === 'heap' ? 'heapprofile' : 'cpuprofile'}`);
const flags = ['--import', hook];
if (process.env.SOURCE === '1') flags.push('--import', 'tsx', '--conditions=@pingora-ts/source');

const waitFor = async (check: () => boolean, tries = 200): Promise<void> => {
  for (let i = 0; i < tries && !check(); i++) await new Promise((r) => setTimeout(r, 50));
};

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const originPort = await freePort();
  const statsPort = await freePort();
  spawnNode(join(here, 'origin.mjs'), [originPort, statsPort]);
  await waitForTarget(originPort);
  const port = await freePort();
  process.env.PROFILE_OUT = profileFile;
  process.env.PROFILE_KIND = KIND;
  const child = spawnNode(join(here, 'targets', `${target}.mjs`), [port, originPort], flags);
  await waitForTarget(port);
  const url = `http://127.0.0.1:${port}/`;
  wrk(['-t1', `-c${CONNECTIONS}`, `-d${WARMUP}s`, ...HEAD_ARGS], url);
  const perReq: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const cpu0 = cpuSeconds(child.pid!);
    const m = wrk(['-t1', `-c${CONNECTIONS}`, `-d${DURATION}s`, ...HEAD_ARGS], url);
    perReq.push(((cpuSeconds(child.pid!) - cpu0) / m.requests) * 1e6);
    if (m.errors) console.error(`  note: ${m.errors}`);
    console.error(`round ${r + 1}: ${Math.round(m.rps)} req/s, ${perReq.at(-1)!.toFixed(1)} µs CPU/req`);
  }
  const sorted = [...perReq].sort((a, b) => a - b);
  console.log(
    `${target}: CPU µs/req median ${sorted[sorted.length >> 1]!.toFixed(1)} (rounds ${perReq.map((x) => x.toFixed(1)).join(' / ')})`,
  );
  if (process.env.PROFILE === '0') process.exit(0);
  writeFileSync(profileFile, '');
  child.kill('SIGUSR2');
  await new Promise((r) => setTimeout(r, 200));
  const m = wrk(['-t1', `-c${CONNECTIONS}`, `-d${DURATION}s`, ...HEAD_ARGS], url);
  child.kill('SIGUSR2');
  await waitFor(() => readFileSync(profileFile, 'utf8').length > 0);
  if (KIND === 'heap') {
    const heap = JSON.parse(readFileSync(profileFile, 'utf8')) as HeapProfile;
    console.log(
      `profiled: ${m.requests} requests, ${Math.round(totalBytes(heap) / m.requests)} bytes allocated per request (sampled)`,
    );
    console.log(allocTable(heap, m.requests, TOP));
    console.log(`profile: ${profileFile}`);
    process.exit(0);
  }
  const profile = JSON.parse(readFileSync(profileFile, 'utf8')) as CpuProfile;
  const folded = join(OUT, `${target}.folded`);
  writeFileSync(folded, `${foldedStacks(profile).join('\n')}\n`);
  console.log(
    `profiled: ${m.requests} requests, ${(busyUs(profile) / m.requests).toFixed(1)} µs sampled JS+native per request (profiler on)`,
  );
  console.log(topTable(profile, TOP));
  console.log(`profile: ${profileFile}\nfolded stacks: ${folded}`);
  process.exit(0);
}

await main();
