/**
 * A load balancer in a server with worker processes: discovery and health checks run once per
 * server, in the main process, however many workers serve, and every worker applies the verdicts.
 * Observable from the origin: with `threads: 4`, every check comes from the main process.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnTsFixture, waitFor } from '@pingora-ts/test-utils';
import { afterAll, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'pingora-lb-workers-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

it('threads: 4 — one health checker (the main process); a flip reaches all four workers', async () => {
  const checkers = new Map<string, number>();
  let healthy = true;
  const origin = http.createServer((req, res) => {
    const who = String(req.headers['x-checker']);
    checkers.set(who, (checkers.get(who) ?? 0) + 1);
    res.writeHead(healthy ? 200 : 500, { connection: 'close' }).end();
  });
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
  const originAddr = `127.0.0.1:${(origin.address() as AddressInfo).port}`;
  const conf = join(dir, 'conf.yaml');
  writeFileSync(conf, 'version: 1\nthreads: 4\ngrace_period_seconds: 5\n');
  const script = fileURLToPath(new URL('./fixtures/lb-workers.ts', import.meta.url));
  const child = spawnTsFixture(script, ['-c', conf, '--', originAddr], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PINGORA_LOG_LEVEL: 'warn' },
  });
  children.push(child);
  let out = '';
  child.stdout?.on('data', (c: Buffer) => {
    out += c;
  });
  child.stderr?.resume();
  const serving = () => [...out.matchAll(/SERVING (\d+)/g)].map((m) => Number(m[1]));
  await waitFor(() => serving().length === 4, { timeout: 90_000, message: 'four workers serving' });
  const workers = new Set(serving());
  expect(workers.size).toBe(4);
  expect(workers.has(child.pid!)).toBe(false);

  // Ten more checks arrive, all from the main process.
  const seen = () => [...checkers.values()].reduce((a, b) => a + b, 0);
  const before = seen();
  await waitFor(() => seen() >= before + 10, { timeout: 30_000, message: 'ten more checks' });
  expect([...checkers.keys()]).toEqual([String(child.pid)]);

  // The origin fails its checks: each worker's balancer learns it from the main process.
  healthy = false;
  const downIn = () => new Set([...out.matchAll(/HEALTH (\d+) false/g)].map((m) => Number(m[1])));
  await waitFor(() => downIn().size === 4, {
    timeout: 30_000,
    message: 'all four workers see the backend down',
  });
  expect(downIn()).toEqual(workers);
  healthy = true;
  const upIn = () => new Set([...out.matchAll(/HEALTH (\d+) true/g)].map((m) => Number(m[1])));
  await waitFor(() => upIn().size === 4, { timeout: 30_000, message: 'all four workers see it back up' });
  expect([...checkers.keys()]).toEqual([String(child.pid)]);

  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  expect(await exited).toBe(0);
  await new Promise<void>((resolve) => origin.close(() => resolve()));
}, 180_000);
