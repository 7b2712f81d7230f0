/**
 * End-to-end proxy benchmark: the same origin, the same load tool (wrk) and the same machine for
 * every target, in one run. Reports req/s, p50/p99 latency, upstream connection reuse and the
 * ratio pingora-ts / target, as a markdown table.
 *
 *   pnpm --filter @pingora-ts/benches bench:proxy
 *   env: DURATION=8 (s per round), WARMUP=3, ROUNDS=2, CONNECTIONS=50, TARGETS=pingora-ts,nginx,…
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startNginxProxy } from '../lib/nginx.js';
import { freePort, spawnNode, waitForTarget } from '../lib/procs.js';
import { mean } from '../lib/stats.js';
import { wrk as runWrk } from '../lib/wrk.js';

const here = dirname(fileURLToPath(import.meta.url));
const DURATION = Number(process.env.DURATION ?? 8);
const WARMUP = Number(process.env.WARMUP ?? 3);
const ROUNDS = Number(process.env.ROUNDS ?? 2);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 50);
const ALL = ['direct', 'pingora-ts', 'pingora-ts-lb', 'nginx', 'undici-stream', 'reply-from', 'http-proxy'];
const TARGETS = (process.env.TARGETS ?? ALL.join(',')).split(',');

interface Result {
  target: string;
  rps: number[];
  p50: number[];
  p99: number[];
  reuse: number[];
}

// Targets are plain .mjs run by plain node: pingora-ts loads its built dist, as users run it.
const node = (script: string, args: number[]): ChildProcess => spawnNode(join(here, script), args);

function wrk(port: number, seconds: number): { rps: number; p50: number; p99: number; requests: number } {
  const m = runWrk(['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency'], `http://127.0.0.1:${port}/`);
  if (m.errors) console.error(`  note: ${m.errors}`);
  return m;
}

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
  node('origin.mjs', [originPort, statsPort]);
  await waitForTarget(originPort);
  const results: Result[] = [];
  const nginxPrefix = mkdtempSync(join(tmpdir(), 'pingora-ts-bench-nginx-'));
  for (const target of TARGETS) {
    let port = originPort;
    let child: ChildProcess | undefined;
    if (target === 'nginx') {
      port = await freePort();
      child = startNginxProxy({ prefix: nginxPrefix, port, originPort });
    } else if (target !== 'direct') {
      port = await freePort();
      child = node(`targets/${target}.mjs`, [port, originPort]);
    }
    await waitForTarget(port);
    wrk(port, WARMUP);
    const r: Result = { target, rps: [], p50: [], p99: [], reuse: [] };
    for (let i = 0; i < ROUNDS; i++) {
      const before = await originConnections(statsPort);
      const m = wrk(port, DURATION);
      const opened = (await originConnections(statsPort)) - before;
      r.rps.push(m.rps);
      r.p50.push(m.p50);
      r.p99.push(m.p99);
      r.reuse.push(target === 'direct' ? Number.NaN : 1 - opened / m.requests);
      console.error(
        `${target} round ${i + 1}: ${Math.round(m.rps)} req/s, p50 ${m.p50} ms, p99 ${m.p99} ms, ${opened} new upstream connections`,
      );
    }
    results.push(r);
    child?.kill('SIGKILL');
    await new Promise((res) => setTimeout(res, 300));
  }
  rmSync(nginxPrefix, { recursive: true, force: true });
  print(results);
  process.exit(0);
}

function print(results: Result[]): void {
  const ours = results.find((r) => r.target === 'pingora-ts');
  const nodeVersion = process.version;
  console.log(
    `\nwrk -t1 -c${CONNECTIONS} -d${DURATION}s, ${ROUNDS} rounds after ${WARMUP}s warm-up, 11-byte origin body, Node ${nodeVersion}, ${cpuCount()} cores shared by wrk, proxy and origin\n`,
  );
  console.log('| target | req/s (rounds) | p50 ms | p99 ms | upstream reuse | pingora-ts / target (req/s) |');
  console.log('|---|---|---|---|---|---|');
  for (const r of results) {
    const rps = r.rps.map((x) => `${(x / 1000).toFixed(1)}k`).join(' / ');
    const reuse = Number.isNaN(mean(r.reuse)) ? '—' : `${(mean(r.reuse) * 100).toFixed(2)} %`;
    const ratio = ours ? (mean(ours.rps) / mean(r.rps)).toFixed(2) : '—';
    console.log(
      `| ${r.target} | ${rps} | ${mean(r.p50).toFixed(2)} | ${mean(r.p99).toFixed(2)} | ${reuse} | ${ratio} |`,
    );
  }
}

function cpuCount(): number {
  return availableParallelism();
}

await main();
