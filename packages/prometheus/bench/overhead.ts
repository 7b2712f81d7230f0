/**
 * What the default metrics cost: the same minimal proxy run twice side by side, without and with
 * `withProxyMetrics` (plus the scrape-time gauges), loaded in interleaved rounds (off, on, on,
 * off, …) so a slow minute on a shared machine hits both alike. The origin is nginx, the cheapest
 * origin on the machine, so the proxies get as much of the CPU as possible. Reports the median
 * req/s and server CPU µs per request of each, and their ratios.
 *
 *   cd packages/prometheus && node --import tsx --conditions=@pingora-ts/source bench/overhead.ts
 *   env: ROUNDS=8 (per variant), DURATION=6 (s per round), WARMUP=3, CONNECTIONS=50,
 *        VARIANTS=off,on (add `logging` for a proxy with an empty logging phase, `control` for a
 *        second proxy without metrics: how far two identical proxies differ on this machine)
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, spawnNginx, waitForPort } from '@pingora-ts/test-utils';

const ROUNDS = Number(process.env.ROUNDS ?? 8);
const DURATION = Number(process.env.DURATION ?? 6);
const WARMUP = Number(process.env.WARMUP ?? 3);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 50);
const VARIANTS = (process.env.VARIANTS ?? 'off,on').split(',') as VariantName[];
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

const children: ChildProcess[] = [];
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

function wrk(seconds: number, port: number): { rps: number; requests: number } {
  const out = execFileSync('wrk', ['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, `http://127.0.0.1:${port}/`], {
    encoding: 'utf8',
  });
  const errors = out.match(/(Non-2xx.*|Socket errors.*)/g);
  if (errors !== null) console.error(`  note: ${errors.join('; ')}`);
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]),
    requests: Number(/(\d+) requests in/.exec(out)?.[1]),
  };
}

function get(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

/** Requests the metrics-on proxy has recorded so far. */
async function recorded(metricsPort: number): Promise<number> {
  const text = await get(metricsPort);
  let n = 0;
  for (const m of text.matchAll(/^http_server_requests_total\{[^}]*\} (\d+)$/gm)) n += Number(m[1]);
  return n;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

type VariantName = 'off' | 'on' | 'logging' | 'control';

interface Variant {
  name: VariantName;
  port: number;
  pid: number;
  rps: number[];
  cpuUs: number[];
}

async function main(): Promise<void> {
  const prefix = mkdtempSync(join(tmpdir(), 'pingora-ts-metrics-bench-'));
  const originPort = await freePort();
  const origin = spawnNginx({
    prefix,
    port: originPort,
    http: `keepalive_requests 10000000; keepalive_timeout 60s;
  server { listen 127.0.0.1:${originPort}; location / { default_type text/plain; return 200 'hello world'; } }`,
  });
  children.push(origin);
  await waitForPort(originPort, { tries: 200, intervalMs: 50 });
  const metricsPort = await freePort();
  const target = fileURLToPath(new URL('./target.ts', import.meta.url));
  const variants: Variant[] = [];
  for (const name of VARIANTS) {
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--conditions=@pingora-ts/source',
        target,
        String(port),
        String(originPort),
        name,
        String(metricsPort),
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    children.push(child);
    await waitForPort(port, { tries: 400, intervalMs: 50 });
    variants.push({ name, port, pid: child.pid!, rps: [], cpuUs: [] });
  }
  for (const v of variants) wrk(WARMUP, v.port);
  const on = variants.find((v) => v.name === 'on');
  const off = variants.find((v) => v.name === 'off');
  if (on === undefined || off === undefined) throw new Error('VARIANTS must include off and on');
  for (let round = 0; round < ROUNDS; round++) {
    // off, on, then on, off: the order flips every round so drift in time favours neither.
    const order = round % 2 === 0 ? variants : [...variants].reverse();
    for (const v of order) {
      const before = v === on ? await recorded(metricsPort) : 0;
      const cpu0 = cpuSeconds(v.pid);
      const m = wrk(DURATION, v.port);
      const cpuUs = ((cpuSeconds(v.pid) - cpu0) / m.requests) * 1e6;
      v.rps.push(m.rps);
      v.cpuUs.push(cpuUs);
      let note = '';
      if (v === on) note = `, ${(await recorded(metricsPort)) - before} recorded`;
      console.error(
        `round ${round + 1} ${v.name}: ${Math.round(m.rps)} req/s, ${cpuUs.toFixed(1)} µs CPU/req${note}`,
      );
    }
  }
  rmSync(prefix, { recursive: true, force: true });
  const rpsRatio = median(on.rps) / median(off.rps);
  const cpuRatio = median(on.cpuUs) / median(off.cpuUs);
  const spread = (xs: number[]) => ((Math.max(...xs) - Math.min(...xs)) / median(xs)) * 100;
  console.log(
    `\nwrk -t1 -c${CONNECTIONS} -d${DURATION}s, ${ROUNDS} interleaved rounds per variant after ${WARMUP}s warm-up, nginx origin (11-byte body), Node ${process.version}, ${availableParallelism()} cores shared by wrk, proxies and origin\n`,
  );
  console.log('| metrics | req/s median (min–max) | server CPU µs/req median (min–max) |');
  console.log('|---|---|---|');
  for (const v of variants) {
    const r = `${Math.round(median(v.rps))} (${Math.round(Math.min(...v.rps))}–${Math.round(Math.max(...v.rps))})`;
    const c = `${median(v.cpuUs).toFixed(1)} (${Math.min(...v.cpuUs).toFixed(1)}–${Math.max(...v.cpuUs).toFixed(1)})`;
    console.log(`| ${v.name} | ${r} | ${c} |`);
  }
  console.log(
    `\non / off: req/s ${rpsRatio.toFixed(3)}, CPU per request ${cpuRatio.toFixed(3)} (1.030 = 3 % more); round-to-round spread (max − min) / median of req/s: off ${spread(off.rps).toFixed(0)} %, on ${spread(on.rps).toFixed(0)} %; of CPU per request: off ${spread(off.cpuUs).toFixed(0)} %, on ${spread(on.cpuUs).toFixed(0)} %`,
  );
  process.exit(0);
}

await main();
