/**
 * Redis stopped in the middle of a load through two caching proxies: no request fails, each
 * proxy logs the outage once and the recovery once, and the shared cache works again by itself.
 */
import { randomBytes } from 'node:crypto';
import { closeAll, request, startOrigin, type TestResponse, waitFor } from '@pingora-ts/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { type CachingProxy, cachingProxy, SAME_HOST } from './proxies.js';
import { redisAvailable, TestRedis } from './redis-server.js';

const run = redisAvailable();
let redis: TestRedis | undefined;

afterEach(async () => {
  await closeAll();
  await redis?.close();
});

/** `total` requests, 4 in flight, alternating between the proxies; `onDone(n)` after each answer. */
async function load(
  proxies: CachingProxy[],
  path: string,
  total: number,
  onDone: (n: number) => void = () => undefined,
): Promise<TestResponse[]> {
  const out: TestResponse[] = [];
  let next = 0;
  const worker = async () => {
    while (next < total) {
      const i = next++;
      out.push(await request(proxies[i % proxies.length]!.url(path), SAME_HOST));
      onDone(out.length);
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  return out;
}

const levels = (p: CachingProxy) => p.redisLog.filter((l) => l.msg.startsWith('redis:')).map((l) => l.level);

describe.runIf(run)('Redis stopped under load through two proxies', () => {
  it('loses no request, logs once each way, and recovers by itself', async () => {
    redis = await TestRedis.start();
    let originHits = 0;
    const origin = await startOrigin((_req, res) => {
      originHits++;
      res.setHeader('cache-control', 'max-age=60');
      res.end('payload');
    });
    const prefix = `t:${randomBytes(4).toString('hex')}:`;
    const proxies = [
      await cachingProxy(redis, prefix, origin.port),
      await cachingProxy(redis, prefix, origin.port),
    ];
    const warm = await load(proxies, '/under-load', 20);
    expect(warm.every((r) => r.status === 200 && r.body === 'payload')).toBe(true);
    expect(originHits).toBe(1);

    let stopping: Promise<void> | undefined;
    const during = await load(proxies, '/under-load', 80, (n) => {
      if (n === 10) stopping = redis!.stop();
    });
    await stopping;
    expect(during.map((r) => `${r.status} ${r.body}`)).toEqual(Array(80).fill('200 payload'));
    // After the stop the cache is bypassed: the origin answered the rest.
    expect(originHits).toBeGreaterThan(1);
    // Both proxies made calls while Redis was gone (their requests alternate after the stop).
    await load(proxies, '/while-down', 4);
    for (const p of proxies) expect(levels(p)).toEqual(['warn']);

    await redis.restart();
    await waitFor(
      async () => {
        await load(proxies, '/probe', 2);
        return proxies.every((p) => p.link.available);
      },
      { message: 'both proxies to reach Redis again' },
    );
    for (const p of proxies) expect(levels(p)).toEqual(['warn', 'info']);
    // The shared cache works again: a fill through one is a hit through the other.
    const before = originHits;
    const fill = await request(proxies[0]!.url('/after'), SAME_HOST);
    expect(fill.headers['x-cache-status']).toBe('miss');
    await waitFor(
      async () => (await request(proxies[1]!.url('/after'), SAME_HOST)).headers['x-cache-status'] === 'hit',
      {
        message: 'a hit through the other proxy',
      },
    );
    expect(originHits).toBe(before + 1);
  });
});
