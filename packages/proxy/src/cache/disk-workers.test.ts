/**
 * The disk cache under worker processes: with `threads: 2`, a fill by one worker is a hit in the
 * other, a stampede spread over both workers reaches the origin once, and the cache survives a
 * zero-downtime upgrade (SIGUSR2) with its contents: the new generation's workers hit at once.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { processAlive, spawnTsFixture, waitFor } from '@pingora-ts/test-utils';
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

interface Running {
  child: ChildProcess;
  serving(): Array<{ pid: number; port: number }>;
  err(): string;
  port: number;
  workers: number[];
}

/** The fixture with `threads: 2` on `cacheDir`; resolves once both workers serve. */
async function startServer(originPort: number, cacheDir: string, maxBytes?: number): Promise<Running> {
  const conf = join(dir, `conf-${pids.length}.yaml`);
  writeFileSync(conf, 'version: 1\nthreads: 2\ngrace_period_seconds: 5\n');
  const script = fileURLToPath(new URL('../../test/fixtures/disk-workers.ts', import.meta.url));
  const rest = [
    cacheDir,
    String(originPort),
    '127.0.0.1:0',
    ...(maxBytes === undefined ? [] : [String(maxBytes)]),
  ];
  const child: ChildProcess = spawnTsFixture(script, ['-c', conf, '--', ...rest], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PINGORA_LOG_LEVEL: 'info' },
  });
  pids.push(child.pid!);
  let out = '';
  let errText = '';
  child.stdout?.on('data', (c: Buffer) => {
    out += c;
  });
  child.stderr?.on('data', (c: Buffer) => {
    errText += c;
  });
  const serving = () =>
    [...out.matchAll(/SERVING (\d+) (\d+)/g)].map((m) => ({ pid: Number(m[1]), port: Number(m[2]) }));
  await waitFor(() => serving().length === 2, { timeout: 90_000, message: 'two workers serving' });
  return {
    child,
    serving,
    err: () => errText,
    port: serving()[0]!.port,
    workers: serving().map((s) => s.pid),
  };
}

async function origin(
  hits: Map<string, number>,
  size: number,
): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer((req, res) => {
    hits.set(req.url!, (hits.get(req.url!) ?? 0) + 1);
    setTimeout(
      () => res.writeHead(200, { 'cache-control': 'max-age=600' }).end(`${req.url} ${'x'.repeat(size)}`),
      200,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

/** Bytes of complete asset files under `root` (nginx-style levels; state and lock files aside). */
function assetBytes(root: string): number {
  let total = 0;
  const walk = (d: string, depth: number) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory() && depth < 2 && e.name !== 'state' && e.name !== 'locks') walk(p, depth + 1);
      else if (e.isFile() && depth === 2 && !e.name.includes('.')) total += statSync(p).size;
    }
  };
  walk(root, 0);
  return total;
}

it('threads: 2 — fills are shared by the workers, a stampede is fetched once, and the cache outlives an upgrade', async () => {
  const hits = new Map<string, number>();
  const { server: originServer, port: originPort } = await origin(hits, 20_000);
  const server = await startServer(originPort, join(dir, 'cache'));
  const { serving, port, workers, child, err } = server;
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
  await waitFor(() => server.serving().length === 4, {
    timeout: 90_000,
    message: 'the new generation serving',
  });
  await waitFor(() => /"successor":\d+/.test(err()), { timeout: 30_000, message: 'the hand-over' });
  const successor = Number(/"successor":(\d+)/.exec(err())![1]);
  pids.push(successor, ...server.serving().map((s) => s.pid));
  await waitFor(() => !processAlive(child.pid!), { timeout: 30_000, message: 'the old server to exit' });
  const fresh = server
    .serving()
    .slice(2)
    .map((s) => s.pid);
  const after = await Promise.all(Array.from({ length: 16 }, () => get(port, '/shared')));
  for (const r of after) {
    expect(fresh).toContain(r.by);
    expect(r.cache).toBe('hit');
  }
  expect(hits.get('/shared')).toBe(1);

  process.kill(successor, 'SIGTERM');
  await waitFor(() => !processAlive(successor), { timeout: 30_000, message: 'the successor to exit' });
  originServer.close();
}, 240_000);

it('threads: 2 — one size cap for the whole server: fills through both workers stay under it', async () => {
  const hits = new Map<string, number>();
  const { server: originServer, port: originPort } = await origin(hits, 20_000);
  const cacheDir = join(dir, 'capped');
  const cap = 100_000;
  const server = await startServer(originPort, cacheDir, cap);
  // Twelve 20 KB assets, filled through both workers (new connections spread over them).
  const by = new Set<number>();
  for (let i = 0; i < 12; i++) {
    const batch = await Promise.all([get(server.port, `/a${i}`), get(server.port, `/a${i}`)]);
    for (const r of batch) by.add(r.by);
  }
  // Every eviction verdict has reached the workers once the files on disk fit the cap.
  await waitFor(() => assetBytes(cacheDir) <= cap, { timeout: 30_000, message: 'the cache to fit its cap' });
  expect(assetBytes(cacheDir)).toBeGreaterThan(cap / 2);
  // The most recent assets are still hits.
  expect((await get(server.port, '/a11')).cache).toBe('hit');
  server.child.kill('SIGTERM');
  await waitFor(() => !processAlive(server.child.pid!), { timeout: 30_000, message: 'the server to exit' });
  originServer.close();
}, 240_000);
