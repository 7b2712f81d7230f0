/**
 * Proxy throughput with a LoadBalancer in `upstreamPeer` vs a fixed peer, measured A/B/A/B:
 * both targets of benches/proxy (pingora-ts.mjs and pingora-ts-lb.mjs, built packages, plain
 * node) run side by side against one origin, and wrk alternates short rounds between them. On
 * a machine shared with other jobs the throughput drifts from minute to minute; pairing each
 * round with its neighbour and taking the median ratio cancels most of that drift. It also reads
 * each proxy's CPU time (/proc/<pid>/stat, Linux) per round: CPU µs per request barely moves with
 * contention, so it shows the cost of the selection even when throughput is noisy.
 *
 *   pnpm exec tsx bench/proxy-ab.ts        env: PAIRS=10 SECONDS=4 CONNECTIONS=50
 * (build first: `pnpm exec turbo run build --filter=@pingora-ts/load-balancing...`)
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, waitForPort as waitUntilListening } from '@pingora-ts/test-utils';

const PAIRS = Number(process.env.PAIRS ?? 10);
const SECONDS = Number(process.env.SECONDS ?? 4);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 50);
const benches = join(dirname(fileURLToPath(import.meta.url)), '../../../benches/proxy');
// The targets load the built packages first: allow them 10 s (200 × 50 ms) to listen.
const waitForPort = (port: number) => waitUntilListening(port, { tries: 200, intervalMs: 50 });
const children: ChildProcess[] = [];
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

function start(script: string, args: number[]): number {
  const c = spawn(process.execPath, [join(benches, script), ...args.map(String)], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(c);
  return c.pid!;
}

/** User + system CPU time of a process, in clock ticks (1/100 s on Linux). */
function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** One wrk round: req/s and the CPU µs per request of process `pid`. */
function wrk(port: number, pid: number, seconds: number): { rps: number; cpuUs: number } {
  const t0 = cpuTicks(pid);
  const url = `http://127.0.0.1:${port}/`;
  const out = execFileSync('wrk', ['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, url], { encoding: 'utf8' });
  const ticks = cpuTicks(pid) - t0;
  if (/Non-2xx|Socket errors/.test(out)) throw new Error(`errors in run:\n${out}`);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1]);
  return { rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]), cpuUs: (ticks * 10_000) / requests };
}

const [originPort, statsPort, fixedPort, lbPort] = [
  await freePort(),
  await freePort(),
  await freePort(),
  await freePort(),
];
start('origin.mjs', [originPort, statsPort]);
await waitForPort(originPort);
const fixedPid = start('targets/pingora-ts.mjs', [fixedPort, originPort]);
const lbPid = start('targets/pingora-ts-lb.mjs', [lbPort, originPort]);
await Promise.all([waitForPort(fixedPort), waitForPort(lbPort)]);
wrk(fixedPort, fixedPid, 2);
wrk(lbPort, lbPid, 2);

const fixed = { rps: [] as number[], cpu: [] as number[] };
const lb = { rps: [] as number[], cpu: [] as number[] };
const ratios: number[] = [];
for (let i = 0; i < PAIRS; i++) {
  // Alternate which goes first so a drift within the pair does not favour one side.
  const fixedFirst = i % 2 === 0;
  const first = fixedFirst ? wrk(fixedPort, fixedPid, SECONDS) : wrk(lbPort, lbPid, SECONDS);
  const second = fixedFirst ? wrk(lbPort, lbPid, SECONDS) : wrk(fixedPort, fixedPid, SECONDS);
  const [f, l] = fixedFirst ? [first, second] : [second, first];
  fixed.rps.push(f.rps);
  fixed.cpu.push(f.cpuUs);
  lb.rps.push(l.rps);
  lb.cpu.push(l.cpuUs);
  ratios.push(l.rps / f.rps);
  console.error(
    `pair ${i + 1}: fixed ${Math.round(f.rps)} req/s ${f.cpuUs.toFixed(1)} µs CPU/req; ` +
      `LB ${Math.round(l.rps)} req/s ${l.cpuUs.toFixed(1)} µs CPU/req`,
  );
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
const range = (xs: number[], f: (x: number) => string) =>
  `${f(median(xs))} (${f(Math.min(...xs))}–${f(Math.max(...xs))})`;
const k = (x: number) => `${(x / 1000).toFixed(1)}k`;
const us = (x: number) => x.toFixed(1);
console.log(
  `\nwrk -t1 -c${CONNECTIONS}, ${PAIRS} pairs of ${SECONDS} s rounds, alternating; Node ${process.version}; ` +
    'wrk, origin and both proxies share the machine\n',
);
console.log(
  '| peer choice in `upstreamPeer` | req/s, median (min–max) | LB / fixed req/s, median of pairs (min–max) | proxy CPU µs / request, median (min–max) | LB / fixed CPU per request |',
);
console.log('|---|---:|---:|---:|---:|');
console.log(`| fixed \`HttpPeer\` | ${range(fixed.rps, k)} | 1.000 | ${range(fixed.cpu, us)} | 1.000 |`);
console.log(
  `| \`LoadBalancer<RoundRobin>.select()\`, 3 backends, TCP check 1/s | ${range(lb.rps, k)} | ` +
    `${range(ratios, (x) => x.toFixed(3))} | ${range(lb.cpu, us)} | ${(median(lb.cpu) / median(fixed.cpu)).toFixed(3)} |`,
);
process.exit(0);
