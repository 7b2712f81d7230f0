/**
 * Scale-out with separate processes: three pingora-ts instances (each its own process and port)
 * sharing one Redis. A fill through one is a hit through the others; a stampede spread over all
 * three reaches the origin once; a rate limit of N per second holds across the three together.
 */
import type { ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { spawnTsFixture, waitFor } from '@pingora-ts/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisAvailable, TestRedis } from './redis-server.js';

const LIMIT = 100;
const children: ChildProcess[] = [];
let redis: TestRedis;
let origin: http.Server;
const hits = new Map<string, number>();
let ports: number[] = [];

function instance(redisPort: number, originPort: number, prefix: string): Promise<number> {
  const script = fileURLToPath(new URL('./fixtures/instance.ts', import.meta.url));
  const child = spawnTsFixture(script, [String(redisPort), String(originPort), prefix, String(LIMIT)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { PINGORA_LOG_LEVEL: 'warn' },
  });
  children.push(child);
  let out = '';
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (c: Buffer) => {
      out += c;
      const m = /PORT (\d+)/.exec(out);
      if (m !== null) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`instance exited early (${code})`)));
  });
}

function get(
  port: number,
  path: string,
  agent: http.Agent | false = false,
): Promise<{ status: number; cache: string; window: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent, headers: { host: 'cdn.example' } }, (res) => {
        res.resume();
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            cache: String(res.headers['x-cache-status']),
            window: String(res.headers['x-window']),
          }),
        );
      })
      .on('error', reject);
  });
}

describe.skipIf(!redisAvailable())('three instances in separate processes, one Redis', () => {
  beforeAll(async () => {
    redis = await TestRedis.start({ allowExternal: true });
    origin = http.createServer((req, res) => {
      hits.set(req.url!, (hits.get(req.url!) ?? 0) + 1);
      // Slow enough that a stampede piles up behind the first request.
      const delay = req.url === '/stampede' ? 300 : 0;
      setTimeout(
        () => res.writeHead(200, { 'cache-control': 'max-age=60' }).end(`body of ${req.url}`),
        delay,
      );
    });
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
    const originPort = (origin.address() as AddressInfo).port;
    const prefix = `instances-${process.pid}-${Date.now()}:`;
    ports = await Promise.all([0, 1, 2].map(() => instance(redis.port, originPort, prefix)));
  }, 120_000);

  afterAll(async () => {
    for (const c of children) c.kill('SIGTERM');
    await Promise.all(
      children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : null)),
    );
    origin?.close();
    await redis?.close();
  });

  it('a fill through one instance is a hit through the other two', async () => {
    expect((await get(ports[0]!, '/fill')).cache).toBe('miss');
    expect((await get(ports[1]!, '/fill')).cache).toBe('hit');
    expect((await get(ports[2]!, '/fill')).cache).toBe('hit');
    expect(hits.get('/fill')).toBe(1);
  });

  it('a stampede of 60 requests spread over the three reaches the origin once', async () => {
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => get(ports[i % 3]!, '/stampede')));
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(hits.get('/stampede')).toBe(1);
  });

  it(`a limit of ${LIMIT} per second holds across the three together`, async () => {
    // 8 concurrent clients per instance on kept-alive connections, until a whole window inside the
    // run was saturated (a new connection per request can fall short of the limit on a busy machine).
    const agent = new http.Agent({ keepAlive: true, maxSockets: 24 });
    const allowed = new Map<string, number>();
    const refused = new Map<number, number>();
    // Refusals by the test's clock (same machine as the instances').
    const second = () => Math.floor(Date.now() / 1000);
    let stop = false;
    const client = async (port: number) => {
      while (!stop) {
        const r = await get(port, '/limited/x', agent);
        if (r.status === 200) allowed.set(r.window, (allowed.get(r.window) ?? 0) + 1);
        else if (r.status === 429) {
          const w = second();
          refused.set(w, (refused.get(w) ?? 0) + 1);
        } else throw new Error(`unexpected status ${r.status}`);
      }
    };
    const first = second();
    const clients = ports.flatMap((p) => Array.from({ length: 8 }, () => client(p)));
    // Done once a window after the first, already over, saw several refusals (or after 30 windows,
    // for the assertions below to report what happened).
    const saturatedWindowOver = () => {
      const now = second();
      for (let w = first + 1; w < now; w++) if ((refused.get(w) ?? 0) >= 5) return true;
      return now >= first + 30;
    };
    await waitFor(saturatedWindowOver, { timeout: 45_000, interval: 50, message: 'a saturated window' });
    // The window now running is partial, as the first was: only those between count.
    const last = second();
    stop = true;
    await Promise.all(clients);
    agent.destroy();
    // Windows fully inside the run were saturated (refusals seen): each let through the limit, ±5 %.
    console.log(`allowed per window: ${[...allowed].map(([w, n]) => `${Number(w) - first}:${n}`).join(' ')}`);
    // Every window let through at most the limit (+5 %); those the clients saturated (several
    // refusals), the limit itself, ±5 %. At least one window inside the run was saturated.
    let saturated = 0;
    for (let w = first + 1; w < last; w++) {
      const n = allowed.get(String(w)) ?? 0;
      expect(n, `window ${w - first}`).toBeLessThanOrEqual(LIMIT * 1.05);
      if ((refused.get(w) ?? 0) < 5) continue;
      saturated++;
      expect(n, `window ${w - first}`).toBeGreaterThanOrEqual(LIMIT * 0.95);
    }
    expect(saturated).toBeGreaterThan(0);
  }, 60_000);
});
