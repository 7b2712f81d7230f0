/**
 * The disk cache under worker processes: with `threads: 2`, a fill by one worker is a hit in the
 * other, a stampede spread over both workers reaches the origin once, and the cache survives a
 * zero-downtime upgrade (SIGUSR2) with its contents: the new generation's workers hit at once.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '@pingora-ts/test-utils';
import { afterAll, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'pingora-disk-workers-'));
const pids: number[] = [];
afterAll(() => {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
  rmSync(dir, { recursive: true, force: true });
});

function get(port: number, path: string): Promise<{ status: number; cache: string; by: number }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent: false, headers: { host: 'cdn.example' } }, (res) => {
        res.resume();
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            cache: String(res.headers['x-cache-status']),
            by: Number(res.headers['x-served-by']),
          }),
        );
      })
      .on('error', reject);
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

it('threads: 2 — fills are shared by the workers, a stampede is fetched once, and the cache outlives an upgrade', async () => {
  const hits = new Map<string, number>();
  const origin = http.createServer((req, res) => {
    hits.set(req.url!, (hits.get(req.url!) ?? 0) + 1);
    setTimeout(
      () => res.writeHead(200, { 'cache-control': 'max-age=600' }).end(`${req.url} ${'x'.repeat(20_000)}`),
      200,
    );
  });
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
  const originPort = (origin.address() as AddressInfo).port;
  const conf = join(dir, 'conf.yaml');
  writeFileSync(conf, 'version: 1\nthreads: 2\ngrace_period_seconds: 5\n');
  const script = fileURLToPath(new URL('../../test/fixtures/disk-workers.ts', import.meta.url));
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--conditions=@pingora-ts/source',
      script,
      '-c',
      conf,
      '--',
      join(dir, 'cache'),
      String(originPort),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PINGORA_LOG_LEVEL: 'info' } },
  );
  pids.push(child.pid!);
  let out = '';
  let err = '';
  child.stdout?.on('data', (c: Buffer) => {
    out += c;
  });
  child.stderr?.on('data', (c: Buffer) => {
    err += c;
  });
  const serving = () =>
    [...out.matchAll(/SERVING (\d+) (\d+)/g)].map((m) => ({ pid: Number(m[1]), port: Number(m[2]) }));
  await waitFor(() => serving().length === 2, { timeout: 90_000, message: 'two workers serving' });
  const port = serving()[0]!.port;
  const workers = serving().map((s) => s.pid);

  // A stampede over both workers: one origin fetch; then every response from either worker is a hit.
  const burst = await Promise.all(Array.from({ length: 30 }, () => get(port, '/shared')));
  expect(burst.every((r) => r.status === 200)).toBe(true);
  expect(hits.get('/shared')).toBe(1);
  const answered = new Set<number>();
  for (let i = 0; i < 400 && answered.size < 2; i++) {
    const batch = await Promise.all(Array.from({ length: 8 }, () => get(port, '/shared')));
    for (const r of batch) {
      expect(r.cache).toBe('hit');
      answered.add(r.by);
    }
  }
  expect([...answered].sort()).toEqual([...workers].sort());
  expect(hits.get('/shared')).toBe(1);

  // Upgrade: the successor's workers open the same directory and hit without asking the origin.
  process.kill(child.pid!, 'SIGUSR2');
  await waitFor(() => serving().length === 4, { timeout: 90_000, message: 'the new generation serving' });
  await waitFor(() => /"successor":\d+/.test(err), { timeout: 30_000, message: 'the hand-over' });
  const successor = Number(/"successor":(\d+)/.exec(err)![1]);
  pids.push(successor, ...serving().map((s) => s.pid));
  await waitFor(() => !alive(child.pid!), { timeout: 30_000, message: 'the old server to exit' });
  const fresh = serving()
    .slice(2)
    .map((s) => s.pid);
  const after = await Promise.all(Array.from({ length: 16 }, () => get(port, '/shared')));
  for (const r of after) {
    expect(fresh).toContain(r.by);
    expect(r.cache).toBe('hit');
  }
  expect(hits.get('/shared')).toBe(1);

  process.kill(successor, 'SIGTERM');
  await waitFor(() => !alive(successor), { timeout: 30_000, message: 'the successor to exit' });
  origin.close();
}, 240_000);
