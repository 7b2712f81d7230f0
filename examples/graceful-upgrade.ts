/**
 * Zero-downtime upgrade, end to end on loopback: a proxy with two worker processes in front of a
 * demo origin, upgraded three times in a row while clients keep sending requests (keep-alive and
 * `Connection: close`). Each upgrade is SIGUSR2: the server starts its successor, which inherits the
 * listening socket; once the successor serves, the old server drains and exits. The demo prints
 * every generation's pid and the tally: no request fails.
 *
 *   pnpm --filter @pingora-ts/examples graceful-upgrade          # the demo
 *   pnpm --filter @pingora-ts/examples graceful-upgrade -- -- serve 6190 <origin port>   # just the server
 *
 * In production the same server runs under systemd with `ExecReload=/bin/kill -USR2 $MAINPID`
 * (see the core README), or with Pingora's SIGQUIT + `-u` when core's native addon is built.
 */
import { spawn } from 'node:child_process';
import * as http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HttpPeer, Opt, processGroup, Server } from '@pingora-ts/core';
import { httpProxyService } from '@pingora-ts/proxy';
import { isMain } from './lib/demo-origins.js';

/** The server: a proxy on `port` to the origin on `originPort`, `threads` from the conf. */
export async function serve(port: number, originPort: number): Promise<never> {
  const server = new Server(Opt.parseArgs());
  server.bootstrap();
  const proxy = httpProxyService(
    {},
    {
      upstreamPeer: () => new HttpPeer(`127.0.0.1:${originPort}`, false, ''),
      // Which process answered, so the demo can tell the generations apart.
      responseFilter: (_session, resp) => resp.insertHeader('x-served-by', String(process.pid)),
    },
  );
  proxy.addTcp(`127.0.0.1:${port}`);
  server.addService(proxy);
  server.onPhase((phase) => {
    if (phase === 'Running' && processGroup.role !== 'worker')
      process.stdout.write(`RUNNING ${process.pid}\n`);
  });
  return server.runForever();
}

/** What {@link demo} saw. */
export interface DemoResult {
  ok: number;
  failed: string[];
  /** Pids of the main processes, oldest first. */
  generations: number[];
  /** Pids that answered requests. */
  servedBy: Set<string>;
}

function get(port: number, agent: http.Agent | false): Promise<{ status: number; servedBy: string }> {
  return new Promise((resolve, reject) => {
    const headers = agent === false ? { connection: 'close' } : {};
    http
      .get({ host: '127.0.0.1', port, path: '/', agent, headers }, (res) => {
        res.resume();
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, servedBy: String(res.headers['x-served-by']) }),
        );
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

/** Run the server as a child, upgrade it `rounds` times under load, stop it, and tally. */
export async function demo(rounds = 3): Promise<DemoResult> {
  const dir = mkdtempSync(join(tmpdir(), 'pingora-ts-upgrade-'));
  const conf = join(dir, 'conf.yaml');
  writeFileSync(conf, 'version: 1\nthreads: 2\ngrace_period_seconds: 10\n');
  const origin = http.createServer((_req, res) => res.end('hello from the origin\n'));
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
  const originPort = (origin.address() as { port: number }).port;
  const port = await new Promise<number>((resolve) => {
    const probe = http.createServer().listen(0, '127.0.0.1', () => {
      const p = (probe.address() as { port: number }).port;
      probe.close(() => resolve(p));
    });
  });
  const script = fileURLToPath(import.meta.url);
  const child = spawn(
    process.execPath,
    // tsx runs the TypeScript source; the workers and successors repeat these flags.
    [
      '--import',
      'tsx',
      '--conditions=@pingora-ts/source',
      script,
      '-c',
      conf,
      '--',
      'serve',
      String(port),
      String(originPort),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, PINGORA_LOG_LEVEL: 'warn' } },
  );
  let out = '';
  child.stdout?.on('data', (c: Buffer) => {
    out += c;
  });
  const generations = () => [...out.matchAll(/RUNNING (\d+)/g)].map((m) => Number(m[1]));
  const until = async (cond: () => boolean) => {
    for (let i = 0; i < 6000 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
    if (!cond()) throw new Error('the demo server did not get there in 60 s');
  };
  const result: DemoResult = { ok: 0, failed: [], generations: [], servedBy: new Set() };
  await until(() => generations().length === 1);
  let running = true;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
  const client = async (keepAlive: boolean) => {
    while (running) {
      try {
        const { status, servedBy } = await get(port, keepAlive ? agent : false);
        if (status === 200) result.ok++;
        else result.failed.push(`status ${status}`);
        result.servedBy.add(servedBy);
      } catch (err) {
        result.failed.push((err as Error).message);
      }
    }
  };
  const clients = [client(true), client(true), client(false), client(false)];
  for (let round = 1; round <= rounds; round++) {
    const before = result.ok;
    await until(() => result.ok >= before + 50);
    process.kill(generations().at(-1)!, 'SIGUSR2');
    await until(() => generations().length === round + 1);
    console.log(
      `upgrade ${round}: pid ${generations()[round - 1]} → ${generations()[round]}, ${result.ok} requests so far, ${result.failed.length} failed`,
    );
  }
  const before = result.ok;
  await until(() => result.ok >= before + 50);
  running = false;
  await Promise.all(clients);
  agent.destroy();
  result.generations = generations();
  process.kill(result.generations.at(-1)!, 'SIGTERM');
  origin.close();
  rmSync(dir, { recursive: true, force: true });
  return result;
}

if (isMain(import.meta.url)) {
  const rest = process.argv.slice(process.argv.indexOf('--') + 1);
  if (process.argv.includes('--') && rest[0] === 'serve')
    await serve(Number(rest[1] ?? 6190), Number(rest[2] ?? 6191));
  else {
    const r = await demo();
    console.log(
      `${r.ok} requests, ${r.failed.length} failed, served by ${r.servedBy.size} processes over ${r.generations.length} generations`,
    );
  }
}
