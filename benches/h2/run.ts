/**
 * HTTP/2 benchmark: h2load against a direct node:http2 origin (core API), pingora-ts (h2c → h1,
 * h2c → h2c, and h2 → h2 over TLS) and nginx with http2 in front of the same HTTP/1.1 origin.
 * Every target runs for the whole benchmark and rounds are interleaved (target A, B, C, A, B, C,
 * …), so load from other jobs on the machine spreads over all targets instead of one.
 *
 *   pnpm --filter @pingora-ts/benches bench:h2
 *   env: DURATION=8 (s per round), WARMUP=2, ROUNDS=3, CONNECTIONS=8, STREAMS=16 (per connection),
 *        TARGETS=direct-h2c,pingora-ts-h2c-h1,…, PROFILE=1 (--cpu-prof the pingora-ts targets)
 */
import { type ChildProcess, execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startNginxProxy } from '../lib/nginx.js';
import { freePort, spawnNode, waitForTarget } from '../lib/procs.js';
import { mean } from '../lib/stats.js';

const here = dirname(fileURLToPath(import.meta.url));
const CERTS = join(here, '../../packages/tls-openssl/test/fixtures');
const DURATION = Number(process.env.DURATION ?? 8);
const WARMUP = Number(process.env.WARMUP ?? 2);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 8);
const STREAMS = Number(process.env.STREAMS ?? 16);
const PROFILE = process.env.PROFILE === '1';

interface Target {
  name: string;
  /** What the load tool talks to. */
  url: (port: number) => string;
  start: (port: number, o: Origins) => ChildProcess | undefined;
  /** Origin port when the target is the origin itself. */
  direct?: (o: Origins) => number;
}

interface Origins {
  h1: number;
  h2c: number;
  h2tls: number;
}

const profileDir = PROFILE ? mkdtempSync(join(tmpdir(), 'pingora-ts-h2-prof-')) : '';

function node(script: string, args: Array<string | number>, profile = false): ChildProcess {
  const flags = profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  return spawnNode(join(here, script), args, flags);
}

const nginxPrefixes: string[] = [];
/**
 * nginx with HTTP/2 in front of the HTTP/1.1 origin: h2c with prior knowledge (`listen … http2`)
 * or TLS with ALPN h2 (`listen … ssl http2`). No per-connection request limit, downstream or
 * upstream: h2load does not reconnect after a GOAWAY.
 */
function nginx(port: number, originPort: number, tls: boolean): ChildProcess {
  const prefix = mkdtempSync(join(tmpdir(), 'pingora-ts-bench-nginx-h2-'));
  nginxPrefixes.push(prefix);
  const listen = tls
    ? `listen 127.0.0.1:${port} ssl http2;
    ssl_certificate ${CERTS}/localhost.pem;
    ssl_certificate_key ${CERTS}/localhost.key;`
    : `listen 127.0.0.1:${port} http2;`;
  const unlimited = 'keepalive_requests 1000000000;';
  return startNginxProxy({ prefix, port, originPort, listen, http: unlimited, upstream: unlimited });
}

const h2c = (port: number) => `http://127.0.0.1:${port}/`;
const h2tls = (port: number) => `https://127.0.0.1:${port}/`;

const ALL: Target[] = [
  { name: 'direct-h2c', url: h2c, start: () => undefined, direct: (o) => o.h2c },
  {
    name: 'pingora-ts-h2c-h1',
    url: h2c,
    start: (p, o) => node('targets/pingora-ts.mjs', ['h2c-h1', p, o.h1, CERTS], PROFILE),
  },
  {
    name: 'pingora-ts-h2c-h2c',
    url: h2c,
    start: (p, o) => node('targets/pingora-ts.mjs', ['h2c-h2c', p, o.h2c, CERTS], PROFILE),
  },
  { name: 'nginx-h2c-h1', url: h2c, start: (p, o) => nginx(p, o.h1, false) },
  { name: 'direct-h2-tls', url: h2tls, start: () => undefined, direct: (o) => o.h2tls },
  {
    name: 'pingora-ts-h2-h2-tls',
    url: h2tls,
    start: (p, o) => node('targets/pingora-ts.mjs', ['h2-h2', p, o.h2tls, CERTS], PROFILE),
  },
  { name: 'nginx-h2-h1-tls', url: h2tls, start: (p, o) => nginx(p, o.h1, true) },
];
const wanted = (process.env.TARGETS ?? ALL.map((t) => t.name).join(',')).split(',');
const TARGETS = ALL.filter((t) => wanted.includes(t.name));

interface Measure {
  rps: number;
  meanMs: number;
  failed: number;
}

function h2load(url: string, seconds: number, warmup: number): Measure {
  const args = ['-t1', `-c${CONNECTIONS}`, `-m${STREAMS}`, '-D', String(seconds)];
  if (warmup > 0) args.push(`--warm-up-time=${warmup}`);
  const out = execFileSync('h2load', [...args, url], { encoding: 'utf8' });
  const rps = Number(/finished in [\d.]+s, ([\d.]+) req\/s/.exec(out)?.[1]);
  const failed = Number(/(\d+) failed/.exec(out)?.[1] ?? 0) + Number(/(\d+) errored/.exec(out)?.[1] ?? 0);
  const m = /time for request:\s+\S+\s+\S+\s+(\S+)/.exec(out)?.[1] ?? '';
  const meanMs = m.endsWith('us')
    ? Number.parseFloat(m) / 1000
    : m.endsWith('ms')
      ? Number.parseFloat(m)
      : Number.parseFloat(m) * 1000;
  return { rps, meanMs, failed };
}

async function main(): Promise<void> {
  const o: Origins = { h1: await freePort(), h2c: await freePort(), h2tls: await freePort() };
  node('../proxy/origin.mjs', [o.h1, await freePort()]);
  node('origin-h2.mjs', [o.h2c]);
  node('origin-h2.mjs', [o.h2tls, CERTS]);
  await Promise.all([waitForTarget(o.h1), waitForTarget(o.h2c), waitForTarget(o.h2tls)]);
  const ports = new Map<string, number>();
  const procs = new Map<string, ChildProcess | undefined>();
  for (const t of TARGETS) {
    const port = t.direct ? t.direct(o) : await freePort();
    ports.set(t.name, port);
    procs.set(t.name, t.start(port, o));
    await waitForTarget(port);
    h2load(t.url(port), WARMUP, 0);
  }
  const results = new Map<string, Measure[]>(TARGETS.map((t) => [t.name, []]));
  for (let round = 1; round <= ROUNDS; round++) {
    for (const t of TARGETS) {
      const m = h2load(t.url(ports.get(t.name)!), DURATION, WARMUP);
      results.get(t.name)!.push(m);
      console.error(
        `round ${round} ${t.name}: ${Math.round(m.rps)} req/s, mean ${m.meanMs.toFixed(2)} ms${m.failed ? `, ${m.failed} failed` : ''}`,
      );
    }
  }
  for (const c of procs.values()) c?.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 500));
  for (const p of nginxPrefixes) rmSync(p, { recursive: true, force: true });
  print(results);
  if (PROFILE) summarizeProfiles();
  process.exit(0);
}

function print(results: Map<string, Measure[]>): void {
  const rps = (name: string) => {
    const r = results.get(name);
    return r === undefined || r.length === 0 ? Number.NaN : mean(r.map((m) => m.rps));
  };
  console.log(
    `\nh2load -t1 -c${CONNECTIONS} -m${STREAMS}, ${DURATION}s × ${ROUNDS} interleaved rounds (+${WARMUP}s warm-up each), 11-byte body, Node ${process.version}, ${availableParallelism()} cores shared by h2load, proxies and origins\n`,
  );
  console.log(
    '| target | req/s (rounds) | mean | mean latency ms | failed | vs direct origin | pingora-ts / nginx |',
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const [name, ms] of results) {
    const tls = name.includes('tls');
    const direct = rps(tls ? 'direct-h2-tls' : 'direct-h2c');
    const nginxRps = rps(tls ? 'nginx-h2-h1-tls' : 'nginx-h2c-h1');
    const r = mean(ms.map((m) => m.rps));
    const rounds = ms.map((m) => `${(m.rps / 1000).toFixed(1)}k`).join(' / ');
    const vsDirect = name.startsWith('direct') ? '1.00' : (r / direct).toFixed(2);
    const vsNginx =
      name.startsWith('pingora-ts') && !Number.isNaN(nginxRps) ? (r / nginxRps).toFixed(2) : '—';
    const failed = ms.reduce((a, m) => a + m.failed, 0);
    console.log(
      `| ${name} | ${rounds} | ${(r / 1000).toFixed(1)}k | ${mean(ms.map((m) => m.meanMs)).toFixed(2)} | ${failed} | ${vsDirect} | ${vsNginx} |`,
    );
  }
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

/** Self time per function from each .cpuprofile, top 20. */
function summarizeProfiles(): void {
  for (const file of readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile'))) {
    const prof = JSON.parse(readFileSync(join(profileDir, file), 'utf8')) as { nodes: ProfileNode[] };
    const self = new Map<string, number>();
    let total = 0;
    for (const n of prof.nodes) {
      const hits = n.hitCount ?? 0;
      // The target idles while other targets are measured: only busy samples count.
      if (n.callFrame.functionName === '(idle)') continue;
      total += hits;
      const url = n.callFrame.url.replace(/^.*\/(packages|node_modules)\//, '$1/');
      const key = `${n.callFrame.functionName || '(anonymous)'} ${url}:${n.callFrame.lineNumber + 1}`;
      self.set(key, (self.get(key) ?? 0) + hits);
    }
    console.log(`\nCPU profile ${file} (self time of busy samples, top 20 of ${total})\n`);
    console.log('| % | function |');
    console.log('|---|---|');
    for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 20)) {
      console.log(`| ${((v / total) * 100).toFixed(1)} | ${k} |`);
    }
  }
  console.log(`\nprofiles kept in ${profileDir}`);
}

await main();
