/**
 * Response compression benchmark: gzip on the way out through the pingora-ts proxy (the
 * `ResponseCompression` module, `ResponseCompressionBuilder.enable(LEVEL)`) against nginx
 * (`gzip on; gzip_comp_level LEVEL; gzip_types *;`), both proxying to the same node origin that
 * serves a generated ~24 KB text/html page, loaded by wrk sending `Accept-Encoding: gzip`. The
 * same two proxies with compression off run alongside as baselines. Rounds are interleaved (round 1
 * of every target, then round 2, …), so a slow minute on a shared machine hits every target alike.
 * Each target is checked first: the body must come back gzip-coded (or plain, for the baselines)
 * and decode to the origin's page.
 *
 *   pnpm --filter @pingora-ts/benches bench:compression
 *   env: LEVEL=6, BODY=24576 (bytes), DURATION=8 (s per round), WARMUP=3, ROUNDS=3, CONNECTIONS=50,
 *        TARGETS=pingora-ts-gzip,nginx-gzip,pingora-ts-off,nginx-off
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { startNginxProxy } from '../lib/nginx.js';
import { cpuSeconds, freePort, spawnNode, waitForTarget } from '../lib/procs.js';
import { mean } from '../lib/stats.js';
import { wrk as runWrk } from '../lib/wrk.js';

const here = dirname(fileURLToPath(import.meta.url));
const LEVEL = Number(process.env.LEVEL ?? 6);
const BODY = Number(process.env.BODY ?? 24 * 1024);
const DURATION = Number(process.env.DURATION ?? 8);
const WARMUP = Number(process.env.WARMUP ?? 3);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 50);
const ALL = ['pingora-ts-gzip', 'nginx-gzip', 'pingora-ts-off', 'nginx-off'];
const TARGETS = (process.env.TARGETS ?? ALL.join(',')).split(',');
const ACCEPT = ['-H', 'Accept-Encoding: gzip'];

interface Target {
  name: string;
  port: number;
  pid: number;
  gzip: boolean;
  /** Body bytes of one response, as sent. */
  wireBytes: number;
  rps: number[];
  p50: number[];
  p99: number[];
  cpuUs: number[];
}

function start(name: string, port: number, originPort: number, nginxPrefix: string): ChildProcess {
  const gzip = name.endsWith('-gzip');
  if (name.startsWith('nginx-')) {
    const directives = gzip
      ? `gzip on; gzip_comp_level ${LEVEL}; gzip_types *; gzip_proxied any; gzip_vary on;`
      : '';
    return startNginxProxy({ prefix: nginxPrefix, port, originPort, http: directives });
  }
  if (name.startsWith('pingora-ts-')) {
    return spawnNode(join(here, 'targets/pingora-ts.mjs'), [port, originPort, gzip ? LEVEL : 0]);
  }
  throw new Error(`unknown target ${name}; known: ${ALL.join(', ')}`);
}

/** One request as wrk sends it: the body as sent, and what it decodes to. */
function fetchOnce(port: number): Promise<{ encoding: string | undefined; wire: Buffer }> {
  return new Promise((resolve, reject) => {
    http
      .get(
        { host: '127.0.0.1', port, path: '/', agent: false, headers: { 'Accept-Encoding': 'gzip' } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ encoding: res.headers['content-encoding'], wire: Buffer.concat(chunks) }),
          );
        },
      )
      .on('error', reject);
  });
}

/** Fails the run unless the target sends gzip (or plain) bytes that decode to the origin's page. */
async function check(t: Target, page: Buffer): Promise<void> {
  const { encoding, wire } = await fetchOnce(t.port);
  const plain = encoding === 'gzip' ? gunzipSync(wire) : wire;
  if (t.gzip !== (encoding === 'gzip') || !plain.equals(page)) {
    throw new Error(
      `${t.name}: got Content-Encoding ${encoding}, ${plain.length} decoded bytes (page is ${page.length})`,
    );
  }
  t.wireBytes = wire.length;
}

async function main(): Promise<void> {
  const originPort = await freePort();
  const origin = spawnNode(join(here, 'origin.mjs'), [originPort, BODY]);
  await waitForTarget(originPort);
  const page = (await fetchOnce(originPort)).wire;
  const nginxPrefix = mkdtempSync(join(tmpdir(), 'pingora-ts-bench-nginx-'));
  const targets: Target[] = [];
  for (const name of TARGETS) {
    const port = await freePort();
    const child = start(name, port, originPort, nginxPrefix);
    await waitForTarget(port);
    const t: Target = {
      name,
      port,
      pid: child.pid!,
      gzip: name.endsWith('-gzip'),
      wireBytes: 0,
      rps: [],
      p50: [],
      p99: [],
      cpuUs: [],
    };
    await check(t, page);
    targets.push(t);
  }
  for (const t of targets)
    runWrk(['-t1', `-c${CONNECTIONS}`, `-d${WARMUP}s`, ...ACCEPT], `http://127.0.0.1:${t.port}/`);
  for (let round = 1; round <= ROUNDS; round++) {
    for (const t of targets) {
      const cpu0 = cpuSeconds(t.pid);
      const m = runWrk(
        ['-t1', `-c${CONNECTIONS}`, `-d${DURATION}s`, '--latency', ...ACCEPT],
        `http://127.0.0.1:${t.port}/`,
      );
      const cpuUs = ((cpuSeconds(t.pid) - cpu0) / m.requests) * 1e6;
      if (m.errors) console.error(`  note: ${t.name}: ${m.errors}`);
      t.rps.push(m.rps);
      t.p50.push(m.p50);
      t.p99.push(m.p99);
      t.cpuUs.push(cpuUs);
      console.error(
        `round ${round} ${t.name}: ${Math.round(m.rps)} req/s, p50 ${m.p50} ms, p99 ${m.p99} ms, ${cpuUs.toFixed(1)} µs CPU/req`,
      );
    }
  }
  origin.kill();
  rmSync(nginxPrefix, { recursive: true, force: true });
  print(targets, page.length);
  process.exit(0);
}

function print(targets: Target[], pageBytes: number): void {
  console.log(
    `\nwrk -t1 -c${CONNECTIONS} -d${DURATION}s -H 'Accept-Encoding: gzip', ${ROUNDS} interleaved rounds after ${WARMUP}s warm-up, ${pageBytes}-byte text/html origin body, gzip level ${LEVEL}, Node ${process.version}, ${availableParallelism()} cores shared by wrk, proxy and origin\n`,
  );
  console.log(
    '| target | body bytes sent | req/s (rounds) | p50 ms | p99 ms | proxy CPU µs/req | pingora-ts / nginx, req/s | nginx / pingora-ts, CPU per req |',
  );
  console.log('|---|---|---|---|---|---|---|---|');
  for (const t of targets) {
    // Each row is compared with the other proxy in the same mode (gzip with gzip, off with off).
    const mode = t.gzip ? '-gzip' : '-off';
    const ours = targets.find((x) => x.name === `pingora-ts${mode}`);
    const nginx = targets.find((x) => x.name === `nginx${mode}`);
    const rps = t.rps.map((x) => `${(x / 1000).toFixed(1)}k`).join(' / ');
    const ratio = ours && nginx ? (mean(ours.rps) / mean(nginx.rps)).toFixed(2) : '—';
    const cpuRatio = ours && nginx ? (mean(nginx.cpuUs) / mean(ours.cpuUs)).toFixed(2) : '—';
    console.log(
      `| ${t.name} | ${t.wireBytes} | ${rps} | ${mean(t.p50).toFixed(2)} | ${mean(t.p99).toFixed(2)} | ${mean(t.cpuUs).toFixed(1)} | ${ratio} | ${cpuRatio} |`,
    );
  }
}

await main();
