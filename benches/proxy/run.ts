/**
 * End-to-end proxy benchmark: the same origin, the same load tool (wrk) and the same machine for
 * every target, in one run. All targets run side by side and the rounds are interleaved (round 1
 * of every target, then round 2, …), so a slow minute on a shared machine hits every target alike.
 * Reports req/s, p50/p99 latency, upstream connection reuse, the CPU time each server process
 * spends per request, and the ratios pingora-ts / target, as a markdown table.
 *
 *   pnpm --filter @pingora-ts/benches bench:proxy
 *   env: DURATION=8 (s per round), WARMUP=3, ROUNDS=3, CONNECTIONS=50, TARGETS=pingora-ts,nginx,…,
 *        HEADERS=browser (each request carries a browser's 12 fields, not wrk's bare head)
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BROWSER_HEADS, HEAD_ARGS } from '../lib/browser-headers.js';
import { startNginxProxy } from '../lib/nginx.js';
import { cpuTimes, freePort, spawnNode, waitForTarget } from '../lib/procs.js';
import { mean } from '../lib/stats.js';
import { wrk as runWrk } from '../lib/wrk.js';

const here = dirname(fileURLToPath(import.meta.url));
const DURATION = Number(process.env.DURATION ?? 8);
const WARMUP = Number(process.env.WARMUP ?? 3);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 50);
// raw-net and node-http-raw are measuring sticks (no safety): the Node ceiling beside nginx.
const ALL = [
  'direct',
  'raw-net',
  'node-http-raw',
  'pingora-ts',
  'pingora-ts-raw',
  'pingora-ts-lb',
  'pingora-ts-lb-phases',
  'nginx',
  'undici-stream',
  'reply-from',
  'http-proxy',
];
const TARGETS = (process.env.TARGETS ?? ALL.join(',')).split(',');

interface Target {
  name: string;
  port: number;
  /** The process whose CPU time counts: the proxy, or the origin for `direct`. */
  pid: number;
  rps: number[];
  p50: number[];
  p99: number[];
  reuse: number[];
  cpuUs: number[];
  /** The kernel's part of `cpuUs`. */
  sysUs: number[];
}

// Targets are plain .mjs run by plain node: pingora-ts loads its built dist, as users run it.
const node = (script: string, args: number[]): ChildProcess => spawnNode(join(here, script), args);

// A fresh connection per query (agent: false): a pooled one may have timed out between rounds.
function originConnections(statsPort: number): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port: statsPort, path: '/', agent: false }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve((JSON.parse(body) as { connections: number }).connections));
      })
      .on('error', reject);
  });
}

async function main(): Promise<void> {
  const originPort = await freePort();
  const statsPort = await freePort();
  const origin = node('origin.mjs', [originPort, statsPort]);
  await waitForTarget(originPort);
  const nginxPrefix = mkdtempSync(join(tmpdir(), 'pingora-ts-bench-nginx-'));
  const targets: Target[] = [];
  for (const name of TARGETS) {
    let port = originPort;
    let child: ChildProcess = origin;
    if (name === 'nginx') {
      port = await freePort();
      child = startNginxProxy({ prefix: nginxPrefix, port, originPort });
    } else if (name !== 'direct') {
      port = await freePort();
      child = node(`targets/${name}.mjs`, [port, originPort]);
    }
    await waitForTarget(port);
    targets.push({ name, port, pid: child.pid!, rps: [], p50: [], p99: [], reuse: [], cpuUs: [], sysUs: [] });
  }
  for (const t of targets)
    runWrk(['-t1', `-c${CONNECTIONS}`, `-d${WARMUP}s`, ...HEAD_ARGS], `http://127.0.0.1:${t.port}/`);
  for (let round = 1; round <= ROUNDS; round++) {
    for (const t of targets) {
      const before = await originConnections(statsPort);
      const cpu0 = cpuTimes(t.pid);
      const m = runWrk(
        ['-t1', `-c${CONNECTIONS}`, `-d${DURATION}s`, '--latency', ...HEAD_ARGS],
        `http://127.0.0.1:${t.port}/`,
      );
      const cpu1 = cpuTimes(t.pid);
      const sysUs = ((cpu1.system - cpu0.system) / m.requests) * 1e6;
      const cpuUs = sysUs + ((cpu1.user - cpu0.user) / m.requests) * 1e6;
      const opened = (await originConnections(statsPort)) - before;
      if (m.errors) console.error(`  note: ${t.name}: ${m.errors}`);
      t.rps.push(m.rps);
      t.p50.push(m.p50);
      t.p99.push(m.p99);
      t.cpuUs.push(cpuUs);
      t.sysUs.push(sysUs);
      t.reuse.push(t.name === 'direct' ? Number.NaN : 1 - opened / m.requests);
      console.error(
        `round ${round} ${t.name}: ${Math.round(m.rps)} req/s, p50 ${m.p50} ms, p99 ${m.p99} ms, ${cpuUs.toFixed(1)} µs CPU/req (${sysUs.toFixed(1)} system), ${opened} new upstream connections`,
      );
    }
  }
  rmSync(nginxPrefix, { recursive: true, force: true });
  print(targets);
  process.exit(0);
}

function print(targets: Target[]): void {
  const ours = targets.find((t) => t.name === 'pingora-ts');
  console.log(
    `\nwrk -t1 -c${CONNECTIONS} -d${DURATION}s, ${ROUNDS} interleaved rounds after ${WARMUP}s warm-up, 11-byte origin body, ${BROWSER_HEADS ? 'browser request heads (12 fields)' : "wrk's bare request heads"}, Node ${process.version}, ${availableParallelism()} cores shared by wrk, proxy and origin\n`,
  );
  console.log(
    '| target | req/s (rounds) | p50 ms | p99 ms | upstream reuse | server CPU µs/req | of which system | pingora-ts / target, req/s | target / pingora-ts, CPU per req |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const t of targets) {
    const rps = t.rps.map((x) => `${(x / 1000).toFixed(1)}k`).join(' / ');
    const reuse = Number.isNaN(mean(t.reuse)) ? '—' : `${(mean(t.reuse) * 100).toFixed(2)} %`;
    const ratio = ours ? (mean(ours.rps) / mean(t.rps)).toFixed(2) : '—';
    const cpuRatio = ours ? (mean(t.cpuUs) / mean(ours.cpuUs)).toFixed(2) : '—';
    console.log(
      `| ${t.name} | ${rps} | ${mean(t.p50).toFixed(2)} | ${mean(t.p99).toFixed(2)} | ${reuse} | ${mean(t.cpuUs).toFixed(1)} | ${mean(t.sysUs).toFixed(1)} | ${ratio} | ${cpuRatio} |`,
    );
  }
}

await main();
