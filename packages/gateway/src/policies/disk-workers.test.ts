/**
 * The gateway's disk cache under worker processes: with `threads: 2` both workers open the one
 * storage that `buildPolicies` makes, a fill by one is a hit in the other, and the size cap is one
 * for the whole server (kept by the main process), not one per worker.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnTsFixture, waitFor } from '@pingora-ts/test-utils';
import { afterAll, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'gateway-disk-workers-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
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

/** Bytes of asset files under the cache root (two levels of hash directories). */
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

it('threads: 2 — one disk storage for both workers, one size cap for the server', async () => {
  const hits = new Map<string, number>();
  const originServer = http.createServer((req, res) => {
    hits.set(req.url!, (hits.get(req.url!) ?? 0) + 1);
    res.end(`${req.url} ${'x'.repeat(20_000)}`);
  });
  await new Promise<void>((r) => originServer.listen(0, '127.0.0.1', r));
  const originPort = (originServer.address() as AddressInfo).port;

  const conf = join(dir, 'conf.yaml');
  writeFileSync(conf, 'version: 1\nthreads: 2\ngrace_period_seconds: 1\n');
  const script = fileURLToPath(new URL('./disk-workers.fixture.ts', import.meta.url));
  // Room for about three 20 kB assets in the whole server.
  const cap = 64_000;
  const child = spawnTsFixture(script, ['-c', conf, '--', dir, String(originPort), String(cap)]);
  children.push(child);
  let out = '';
  let err = '';
  child.stdout?.on('data', (c: Buffer) => {
    out += c;
  });
  child.stderr?.on('data', (c: Buffer) => {
    err += c;
  });
  const serving = () => [...out.matchAll(/SERVING (\d+) (\d+)/g)].map((m) => Number(m[2]));
  await waitFor(() => serving().length === 2, {
    timeout: 90_000,
    message: `two workers serving (stderr: ${err.slice(-500)})`,
  });
  const port = serving()[0]!;

  try {
    expect((await get(port, '/shared')).cache).toBe('miss');
    // Connections are spread over the workers: go on until both have answered, every time a hit.
    const answered = new Set<number>();
    for (let i = 0; i < 400 && answered.size < 2; i++) {
      const batch = await Promise.all(Array.from({ length: 8 }, () => get(port, '/shared')));
      for (const r of batch) {
        expect(r.cache).toBe('hit');
        answered.add(r.by);
      }
    }
    expect(answered.size).toBe(2);
    expect(hits.get('/shared')).toBe(1);

    // Ten assets through both workers: with a cap per worker the disk would keep up to twice it.
    for (let i = 0; i < 10; i++) await Promise.all([get(port, `/a${i}`), get(port, `/b${i}`)]);
    await waitFor(() => assetBytes(join(dir, 'cache')) <= cap, {
      timeout: 30_000,
      message: 'the disk cache to be evicted down to its cap',
    });
    // Evicted down to the cap, not emptied.
    expect(assetBytes(join(dir, 'cache'))).toBeGreaterThan(20_000);
  } finally {
    child.kill('SIGTERM');
    await new Promise<void>((r) => originServer.close(() => r()));
  }
});
