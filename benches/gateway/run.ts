/**
 * The `pingora-ts` binary against the same proxy written in code, and nginx with the equivalent
 * configuration: ten routes, the request matching the last, one request and one response header
 * set, no access log. Same origin, same wrk, interleaved rounds; CPU per request from /proc.
 *
 *   pnpm --filter @pingora-ts/benches bench:gateway
 *   env: DURATION=6 (s per round), WARMUP=2, ROUNDS=3, CONNECTIONS=50
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnNginx } from '@pingora-ts/test-utils';
import { cpuSeconds, freePort, spawnNode, track, waitForTarget } from '../lib/procs.js';
import { mean } from '../lib/stats.js';
import { wrk as runWrk } from '../lib/wrk.js';
import { gatewayYaml, nginxHttpBlock, ROUTES } from './config.js';

const here = dirname(fileURLToPath(import.meta.url));
const bin = join(here, '../../packages/pingora-ts/bin/pingora-ts.mjs');
const DURATION = Number(process.env.DURATION ?? 6);
const WARMUP = Number(process.env.WARMUP ?? 2);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 50);

interface Target {
  name: string;
  port: number;
  pid: number;
  rps: number[];
  p99: number[];
  cpuUs: number[];
}

async function main(): Promise<void> {
  const originPort = await freePort();
  const statsPort = await freePort();
  spawnNode(join(here, '../proxy/origin.mjs'), [originPort, statsPort]);
  await waitForTarget(originPort);
  const dir = mkdtempSync(join(tmpdir(), 'pingora-ts-bench-gateway-'));
  const targets: Target[] = [];
  for (const name of ['pingora-ts binary (YAML)', 'same proxy in code', 'nginx (1 worker)']) {
    const port = await freePort();
    let child: ChildProcess;
    if (name.startsWith('nginx')) {
      child = track(spawnNginx({ prefix: join(dir, 'nginx'), port, http: nginxHttpBlock(port, originPort) }));
    } else if (name.includes('binary')) {
      const file = join(dir, 'gateway.yaml');
      writeFileSync(file, gatewayYaml(port, originPort));
      child = spawnNode(bin, ['-c', file]);
    } else {
      child = spawnNode(join(here, 'targets/code.mjs'), [port, originPort]);
    }
    await waitForTarget(port);
    targets.push({ name, port, pid: child.pid!, rps: [], p99: [], cpuUs: [] });
  }
  const url = (t: Target) => `http://127.0.0.1:${t.port}${ROUTES[ROUTES.length - 1]}x`;
  for (const t of targets) runWrk(['-t1', `-c${CONNECTIONS}`, `-d${WARMUP}s`], url(t));
  for (let round = 1; round <= ROUNDS; round++) {
    for (const t of targets) {
      const cpu0 = cpuSeconds(t.pid);
      const m = runWrk(['-t1', `-c${CONNECTIONS}`, `-d${DURATION}s`, '--latency'], url(t));
      const cpuUs = ((cpuSeconds(t.pid) - cpu0) / m.requests) * 1e6;
      if (m.errors) console.error(`  note: ${t.name}: ${m.errors}`);
      t.rps.push(m.rps);
      t.p99.push(m.p99);
      t.cpuUs.push(cpuUs);
      console.error(
        `round ${round} ${t.name}: ${Math.round(m.rps)} req/s, p99 ${m.p99} ms, ${cpuUs.toFixed(1)} µs CPU/req`,
      );
    }
  }
  rmSync(dir, { recursive: true, force: true });
  const code = targets[1]!;
  console.log(
    `\nwrk -t1 -c${CONNECTIONS} -d${DURATION}s, ${ROUNDS} interleaved rounds after ${WARMUP}s warm-up, 10 routes (request matches the last), Node ${process.version}, ${availableParallelism()} cores shared by wrk, proxy and origin\n`,
  );
  console.log('| target | req/s (rounds) | p99 ms | CPU µs/req | req/s vs code | CPU/req vs code |');
  console.log('|---|---|---|---|---|---|');
  for (const t of targets) {
    const rps = t.rps.map((x) => `${(x / 1000).toFixed(1)}k`).join(' / ');
    console.log(
      `| ${t.name} | ${rps} | ${mean(t.p99).toFixed(2)} | ${mean(t.cpuUs).toFixed(1)} | ${(mean(t.rps) / mean(code.rps)).toFixed(2)} | ${(mean(t.cpuUs) / mean(code.cpuUs)).toFixed(2)} |`,
    );
  }
  process.exit(0);
}

await main();
