/**
 * Two pingora-ts proxies in one process, each with its own Redis connections, sharing one Redis:
 * what one caches the other serves, and a stampede spread over both reaches the origin once.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { closeAll, request, startOrigin, waitFor } from '@pingora-ts/test-utils';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cachingProxy, SAME_HOST } from './proxies.js';
import { redisAvailable, TestRedis } from './redis-server.js';

const run = redisAvailable();
let redis: TestRedis;

beforeAll(async () => {
  if (run) redis = await TestRedis.start({ allowExternal: true });
});
afterEach(closeAll);
afterAll(async () => redis?.close());

const instance = (prefix: string, originPort: number) => cachingProxy(redis, prefix, originPort);

describe.runIf(run)('two proxies sharing one Redis', () => {
  it('serves a fill through one proxy as a hit through the other', async () => {
    let originHits = 0;
    const body = randomBytes(200 * 1024).toString('hex'); // several chunks
    const origin = await startOrigin((_req, res) => {
      originHits++;
      res.setHeader('cache-control', 'max-age=60');
      res.end(body);
    });
    const prefix = `t:${randomBytes(4).toString('hex')}:`;
    const a = await instance(prefix, origin.port);
    const b = await instance(prefix, origin.port);
    const r1 = await request(a.url('/shared'), SAME_HOST);
    expect(r1.headers['x-cache-status']).toBe('miss');
    expect(r1.body).toBe(body);
    const r2 = await request(b.url('/shared'), SAME_HOST);
    expect(r2.headers['x-cache-status']).toBe('hit');
    expect(r2.body).toBe(body);
    expect(originHits).toBe(1);
  });

  it('sends a stampede spread over both proxies to the origin once', async () => {
    let originHits = 0;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const origin = await startOrigin(async (_req, res) => {
      originHits++;
      await gate;
      res.setHeader('cache-control', 'max-age=60');
      res.end('stampede body');
    });
    const prefix = `t:${randomBytes(4).toString('hex')}:`;
    const a = await instance(prefix, origin.port);
    const b = await instance(prefix, origin.port);
    const all = [a, b].flatMap((p) => Array.from({ length: 20 }, () => request(p.url('/hot'), SAME_HOST)));
    // The origin holds the one fetch until both proxies have requests queued on the lock.
    await waitFor(() => originHits === 1 && a.lock.size > 0 && b.lock.size > 0, {
      message: 'one fetch and waiters on both proxies',
    });
    release();
    const responses = await Promise.all(all);
    expect(responses.every((r) => r.status === 200 && r.body === 'stampede body')).toBe(true);
    expect(originHits).toBe(1);
    const statuses = responses.map((r) => r.headers['x-cache-status']);
    expect(statuses.filter((s) => s === 'miss')).toHaveLength(1);
  });

  it('costs one Redis round trip per hit on a small asset', async () => {
    const origin = await startOrigin((_req, res) => {
      res.setHeader('cache-control', 'max-age=60');
      res.end('small');
    });
    const prefix = `t:${randomBytes(4).toString('hex')}:`;
    const a = await instance(prefix, origin.port);
    const b = await instance(prefix, origin.port);
    await request(a.url('/small'), SAME_HOST);
    // The client has its response before the fill is committed: wait for the commit.
    const admin = await redis.readyClient();
    await waitFor(async () => (await admin.keys(`${prefix}cache:*:k`)).length === 1, {
      message: 'the commit',
    });
    const missTrips = a.sent.count;
    const before = b.sent.count;
    for (let i = 0; i < 10; i++) expect((await request(b.url('/small'), SAME_HOST)).body).toBe('small');
    expect((b.sent.count - before) / 10).toBe(1);
    // The miss: lookup, lock, lookup again as the elected writer, begin, append, commit, release.
    expect(missTrips).toBeLessThanOrEqual(8);
  });

  it('streams a fill in progress on one proxy to a client of the other', async () => {
    let originHits = 0;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const part1 = randomBytes(100 * 1024);
    const part2 = randomBytes(100 * 1024);
    const origin = await startOrigin(async (_req, res) => {
      originHits++;
      res.setHeader('cache-control', 'max-age=60');
      res.write(part1);
      await gate;
      res.end(part2);
    });
    const prefix = `t:${randomBytes(4).toString('hex')}:`;
    const a = await instance(prefix, origin.port);
    const b = await instance(prefix, origin.port);
    const fetchStream = (url: string) => {
      const got = { bytes: 0, chunks: [] as Buffer[], status: '' };
      const done = new Promise<Buffer>((resolve, reject) => {
        http
          .get(url, { agent: false, ...SAME_HOST }, (res) => {
            got.status = String(res.headers['x-cache-status']);
            res.on('data', (c: Buffer) => {
              got.chunks.push(c);
              got.bytes += c.length;
            });
            res.on('end', () => resolve(Buffer.concat(got.chunks)));
            res.on('error', reject);
          })
          .on('error', reject);
      });
      return { got, done };
    };
    const fromA = fetchStream(a.url('/big-fill'));
    await waitFor(() => fromA.got.bytes >= part1.length, { message: 'the first part through proxy A' });
    const fromB = fetchStream(b.url('/big-fill'));
    // One 64 KiB chunk is in Redis while the origin still holds the rest back.
    await waitFor(() => fromB.got.bytes >= 64 * 1024, { message: 'proxy B to stream the fill in progress' });
    expect(fromB.got.status).toBe('hit');
    expect(originHits).toBe(1);
    release();
    const whole = Buffer.concat([part1, part2]);
    expect((await fromA.done).equals(whole)).toBe(true);
    expect((await fromB.done).equals(whole)).toBe(true);
    expect(originHits).toBe(1);
  });
});
