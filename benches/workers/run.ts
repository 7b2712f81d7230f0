/**
 * Worker processes: the same pingora-ts proxy run by `Server.runForever()` with `threads: 1` (one
 * process) and `threads: 2` (a main process and two workers sharing the socket), beside nginx with
 * one worker, same origin, same wrk, interleaved rounds. CPU per request is summed over every
 * process of a target (main and workers), so it shows what the worker machinery costs per request.
 * On a 2-core machine wrk and the origin take a share of the same cores: read the 2-worker row as
 * what this machine allows, not as the scaling of a larger one.
 *
 *   pnpm --filter @pingora-ts/benches bench:workers
 *   env: DURATION=8 (s per round), WARMUP=3, ROUNDS=3, CONNECTIONS=50
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startNginxProxy } from '../lib/nginx.js';
import { cpuSeconds, freePort, spawnNode, waitForTarget } from '../lib/procs.js';
import { mean } from '../lib/stats.js';
import { wrk as runWrk } from '../lib/wrk.js';

const here = dirname(fileURLToPath(import.meta.url));
const DURATION = Number(process.env.DURATION ?? 8);
const WARMUP = Number(process.env.WARMUP ?? 3);
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

/** `pid` and its descendants (Linux /proc). */
function tree(pid: number): number[] {
  let kids: number[] = [];
  try {
    kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {}
  return [pid, ...kids.flatMap(tree)];
}

const treeCpu = (pid: number) => tree(pid).reduce((sum, p) => sum + cpuSeconds(p), 0);

async function main(): Promise<void> {
  const originPort = await freePort();
  const statsPort = await freePort();
  spawnNode(join(here, '../proxy/origin.mjs'), [originPort, statsPort]);
  await waitForTarget(originPort);
  const nginxPrefix = mkdtempSync(join(tmpdir(), 'pingora-ts-bench-nginx-'));
  const targets: Target[] = [];
  for (const name of ['threads: 1', 'threads: 2', 'nginx (1 worker)']) {
    const port = await freePort();
    let child: ChildProcess;
    if (name.startsWith('nginx')) child = startNginxProxy({ prefix: nginxPrefix, port, originPort });
    else child = spawnNode(join(here, 'target.mjs'), [port, originPort, name.endsWith('2') ? 2 : 1]);
    await waitForTarget(port);
    targets.push({ name, port, pid: child.pid!, rps: [], p99: [], cpuUs: [] });
  }
  for (const t of targets) runWrk(['-t1', `-c${CONNECTIONS}`, `-d${WARMUP}s`], `http://127.0.0.1:${t.port}/`);
  for (let round = 1; round <= ROUNDS; round++) {
    for (const t of targets) {
      const cpu0 = treeCpu(t.pid);
      const m = runWrk(
        ['-t1', `-c${CONNECTIONS}`, `-d${DURATION}s`, '--latency'],
        `http://127.0.0.1:${t.port}/`,
      );
      const cpuUs = ((treeCpu(t.pid) - cpu0) / m.requests) * 1e6;
      if (m.errors) console.error(`  note: ${t.name}: ${m.errors}`);
      t.rps.push(m.rps);
      t.p99.push(m.p99);
      t.cpuUs.push(cpuUs);
      console.error(
        `round ${round} ${t.name}: ${Math.round(m.rps)} req/s, p99 ${m.p99} ms, ${cpuUs.toFixed(1)} µs CPU/req`,
      );
    }
  }
  rmSync(nginxPrefix, { recursive: true, force: true });
  const one = targets[0]!;
  console.log(
    `\nwrk -t1 -c${CONNECTIONS} -d${DURATION}s, ${ROUNDS} interleaved rounds after ${WARMUP}s warm-up, Node ${process.version}, ${availableParallelism()} cores shared by wrk, proxy and origin\n`,
  );
  console.log(
    '| target | req/s (rounds) | p99 ms | CPU µs/req (all processes) | req/s vs threads: 1 | CPU/req vs threads: 1 |',
  );
  console.log('|---|---|---|---|---|---|');
  for (const t of targets) {
    const rps = t.rps.map((x) => `${(x / 1000).toFixed(1)}k`).join(' / ');
    console.log(
      `| ${t.name} | ${rps} | ${mean(t.p99).toFixed(2)} | ${mean(t.cpuUs).toFixed(1)} | ${(mean(t.rps) / mean(one.rps)).toFixed(2)} | ${(mean(t.cpuUs) / mean(one.cpuUs)).toFixed(2)} |`,
    );
  }
  process.exit(0);
}

await main();
