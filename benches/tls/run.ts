/**
 * HTTPS benchmark: pingora-ts and nginx terminating TLS 1.3 in front of the same HTTP origin, on
 * the same machine, in one run. Two loads, both with wrk:
 *   - keep-alive: CONNECTIONS connections, many requests each (TLS record cost only);
 *   - handshakes: `Connection: close` on every request, so each request is a new connection with
 *     a full TLS 1.3 handshake (wrk never resumes sessions) — new handshakes per second.
 * Rounds are interleaved across targets so background load on a shared machine hits every target
 * alike. Besides req/s, the server process's own CPU time per request is measured (from
 * /proc/<pid>/stat): on a loaded machine, or when the client is the bottleneck (wrk doing its
 * half of every handshake), it is the steadier measure of what a request costs the server.
 * Prints a markdown table with the ratios pingora-ts / target.
 *
 *   pnpm --filter @pingora-ts/benches bench:tls
 *   env: DURATION=8 (s), WARMUP=2, ROUNDS=3, CONNECTIONS=50, TARGETS=pingora-ts,pingora-ts-alpn,nginx,node-https
 * `node-https` is node's own https.Server answering by itself (no proxy): Node's TLS ceiling.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startNginxProxy } from '../lib/nginx.js';
import { cpuSeconds, freePort, spawnNode, waitForTarget } from '../lib/procs.js';
import { mean } from '../lib/stats.js';
import { wrk as runWrk } from '../lib/wrk.js';

const here = dirname(fileURLToPath(import.meta.url));
const CERT = join(here, '../../packages/tls-openssl/test/fixtures/localhost.pem');
const KEY = join(here, '../../packages/tls-openssl/test/fixtures/localhost.key');
const DURATION = Number(process.env.DURATION ?? 8);
const WARMUP = Number(process.env.WARMUP ?? 2);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 50);
const TARGETS = (process.env.TARGETS ?? 'pingora-ts,pingora-ts-alpn,nginx,node-https').split(',');
const MODES = ['keep-alive', 'handshakes'] as const;
type Mode = (typeof MODES)[number];

const node = (script: string, args: Array<string | number>): ChildProcess =>
  spawnNode(join(here, script), args);

interface Measure {
  rps: number;
  /** Server CPU time per request, µs. */
  cpuUs: number;
  errors: string;
}

function wrk(port: number, pid: number, mode: Mode, seconds: number): Measure {
  const args = ['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`];
  if (mode === 'handshakes') args.push('-s', join(here, 'close.lua'));
  const cpu0 = cpuSeconds(pid);
  const { rps, requests, errors } = runWrk(args, `https://127.0.0.1:${port}/`);
  const cpu = cpuSeconds(pid) - cpu0;
  return { rps, cpuUs: (cpu / requests) * 1e6, errors };
}

/**
 * nginx as the TLS reference: the same certificate and TLS 1.2/1.3 profile, and no limit on
 * requests per client connection.
 */
function startNginxTls(prefix: string, port: number, originPort: number): ChildProcess {
  return startNginxProxy({
    prefix,
    port,
    originPort,
    http: 'keepalive_requests 1000000;',
    listen: `listen 127.0.0.1:${port} ssl;
    ssl_certificate ${CERT};
    ssl_certificate_key ${KEY};
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ecdh_curve X25519:prime256v1:secp384r1;`,
  });
}

async function main(): Promise<void> {
  const originPort = await freePort();
  node('../proxy/origin.mjs', [originPort, await freePort()]);
  await waitForTarget(originPort);
  const prefix = mkdtempSync(join(tmpdir(), 'pingora-ts-bench-tls-'));
  const servers = new Map<string, { port: number; pid: number }>();
  for (const target of TARGETS) {
    const port = await freePort();
    let child: ChildProcess;
    if (target === 'nginx') {
      child = startNginxTls(prefix, port, originPort);
    } else if (target === 'pingora-ts')
      child = node('targets/pingora-ts.mjs', [port, originPort, CERT, KEY, 'none']);
    else if (target === 'pingora-ts-alpn')
      child = node('targets/pingora-ts.mjs', [port, originPort, CERT, KEY, 'h1']);
    else if (target === 'node-https') child = node('targets/node-https.mjs', [port, CERT, KEY]);
    else throw new Error(`unknown target ${target}`);
    await waitForTarget(port);
    servers.set(target, { port, pid: child.pid! });
  }
  const results = new Map<string, Measure[]>();
  for (const mode of MODES) {
    for (const target of TARGETS) wrk(servers.get(target)!.port, servers.get(target)!.pid, mode, WARMUP);
    for (let round = 1; round <= ROUNDS; round++) {
      for (const target of TARGETS) {
        const { port, pid } = servers.get(target)!;
        const m = wrk(port, pid, mode, DURATION);
        const key = `${mode}|${target}`;
        results.set(key, [...(results.get(key) ?? []), m]);
        console.error(
          `${mode} round ${round} ${target}: ${Math.round(m.rps)} req/s, ${m.cpuUs.toFixed(0)} µs CPU/req` +
            `${m.errors ? ` (${m.errors})` : ''}, load ${loadavg()[0]!.toFixed(2)}`,
        );
      }
    }
  }
  rmSync(prefix, { recursive: true, force: true });
  print(results);
  process.exit(0);
}

function print(results: Map<string, Measure[]>): void {
  console.log(
    `\nwrk -t1 -c${CONNECTIONS} -d${DURATION}s, ${ROUNDS} interleaved rounds after ${WARMUP}s warm-up; TLS 1.3, ECDSA P-256 certificate, ` +
      `11-byte origin body; Node ${process.version}; ${availableParallelism()} cores shared by wrk, proxy and origin\n`,
  );
  console.log(
    '| load | target | req/s (rounds) | mean req/s | server CPU µs/req | pingora-ts / target, req/s | target / pingora-ts, CPU per req |',
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const mode of MODES) {
    const ours = results.get(`${mode}|pingora-ts`);
    const oursRps = ours && mean(ours.map((m) => m.rps));
    const oursCpu = ours && mean(ours.map((m) => m.cpuUs));
    for (const target of TARGETS) {
      const r = results.get(`${mode}|${target}`)!;
      const rps = mean(r.map((m) => m.rps));
      const cpu = mean(r.map((m) => m.cpuUs));
      const rounds = r.map((m) => `${(m.rps / 1000).toFixed(1)}k`).join(' / ');
      const label = mode === 'keep-alive' ? 'keep-alive' : 'new handshakes';
      const ratio = oursRps ? (oursRps / rps).toFixed(2) : '—';
      const cpuRatio = oursCpu ? (cpu / oursCpu).toFixed(2) : '—';
      console.log(
        `| ${label} | ${target} | ${rounds} | ${(rps / 1000).toFixed(2)}k | ${cpu.toFixed(0)} | ${ratio} | ${cpuRatio} |`,
      );
    }
  }
}

await main();
