/**
 * End-to-end proxy benchmark: the same origin, the same load tool (wrk) and the same machine for
 * every target, in one run. Reports req/s, p50/p99 latency, upstream connection reuse and the
 * ratio pingora-ts / target, as a markdown table.
 *
 *   pnpm --filter @pingora-ts/benches bench:proxy
 *   env: DURATION=8 (s per round), WARMUP=3, ROUNDS=2, CONNECTIONS=50, TARGETS=pingora-ts,nginx,…
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startNginx } from './nginx.js';

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

const children: ChildProcess[] = [];
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

// Targets are plain .mjs run by plain node: pingora-ts loads its built dist, as users run it.
function node(script: string, args: number[]): ChildProcess {
  const c = spawn(process.execPath, [join(here, script), ...args.map(String)], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(c);
  return c;
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as net.AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        r(true);
      });
      s.once('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on ${port}`);
}

function toMs(v: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(v.trim());
  if (!m) return Number.NaN;
  const n = Number(m[1]);
  return m[2] === 'us' ? n / 1000 : m[2] === 's' ? n * 1000 : n;
}

function wrk(port: number, seconds: number): { rps: number; p50: number; p99: number; requests: number } {
  const out = execFileSync(
    'wrk',
    ['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency', `http://127.0.0.1:${port}/`],
    {
      encoding: 'utf8',
    },
  );
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1]);
  // Anchored: "+/- Stdev" columns such as "68.50%" also contain "50%".
  const p50 = toMs(/^\s+50%\s+(\S+)$/m.exec(out)?.[1] ?? '');
  const p99 = toMs(/^\s+99%\s+(\S+)$/m.exec(out)?.[1] ?? '');
  if (/Non-2xx|Socket errors/.test(out))
    console.error(`  note: ${out.match(/(Non-2xx.*|Socket errors.*)/g)?.join('; ')}`);
  return { rps, p50, p99, requests };
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
  await waitForPort(originPort);
  const results: Result[] = [];
  const nginxPrefix = mkdtempSync(join(tmpdir(), 'pingora-ts-bench-nginx-'));
  for (const target of TARGETS) {
    let port = originPort;
    let child: ChildProcess | undefined;
    if (target === 'nginx') {
      port = await freePort();
      child = startNginx(nginxPrefix, port, originPort);
      children.push(child);
    } else if (target !== 'direct') {
      port = await freePort();
      child = node(`targets/${target}.mjs`, [port, originPort]);
    }
    await waitForPort(port);
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

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

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
