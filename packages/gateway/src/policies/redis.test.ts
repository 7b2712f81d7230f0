import { randomBytes } from 'node:crypto';
import { closeAll, deadPort, memoryLogger, request, startOrigin, waitFor } from '@pingora-ts/test-utils';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { RedisRate } from '@pingora-ts/redis';
import { buildPolicies, type GatewayPolicies, SharedRedis } from './index.js';
import { configWith, startRouteProxy, testRedis, warnNoRedis } from './test-proxy.js';

const redis = await testRedis();
if (redis === undefined) warnNoRedis();

describe.runIf(redis !== undefined)('Redis stores', () => {
  const opened: GatewayPolicies[] = [];
  // Each run its own keys, so a shared PINGORA_TS_REDIS_URL server holds nothing from an earlier one.
  const prefix = `gw-test-${randomBytes(4).toString('hex')}:`;

  afterEach(async () => {
    await closeAll();
    for (const p of opened.splice(0)) await p.close();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  async function origin() {
    const seen = new Map<string, number>();
    const o = await startOrigin((req, res) => {
      const n = (seen.get(req.url!) ?? 0) + 1;
      seen.set(req.url!, n);
      res.end(`${req.url} #${n}`);
    });
    return { addr: o.addr, count: (path: string) => seen.get(path) ?? 0 };
  }

  /** Two gateways ("instances") on one Redis, each with its own connection and proxy. */
  async function twoInstances(addr: string, route: Record<string, unknown>) {
    const config = configWith(addr, {
      redis: { url: redis!.url, key_prefix: prefix, timeout: '2s' },
      routes: [{ name: 'r', upstream: 'app', ...route }],
    });
    const made = [];
    for (let i = 0; i < 2; i++) {
      const policies = buildPolicies(config, { baseDir: '.', logger: memoryLogger() as never });
      opened.push(policies);
      const guards = policies.rateLimitGuards(config.routes[0]!, 'r');
      const cache = policies.routeCache(config.routes[0]!, 'r');
      await policies.ready();
      made.push(await startRouteProxy({ origin: addr, guards, cache }));
    }
    return made as [(typeof made)[0], (typeof made)[0]];
  }

  it('shares a rate limit between instances (store: redis)', async () => {
    const o = await origin();
    // An hour-long window: Redis windows are wall-clock slices, and one boundary inside the test
    // would reset the count.
    const [a, b] = await twoInstances(o.addr, { rate_limit: { requests: 3, per: '1h', store: 'redis' } });
    expect((await request(a.url('/x'))).status).toBe(200);
    expect((await request(a.url('/x'))).status).toBe(200);
    expect((await request(b.url('/x'))).status).toBe(200);
    const over = await request(b.url('/x'));
    expect(over.status).toBe(429);
    expect(over.headers['x-ratelimit-limit']).toBe('3');
    expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);
    expect((await request(a.url('/x'))).status).toBe(429);
    expect(o.count('/x')).toBe(3);
    // The counter lives in Redis under the file's key prefix.
    const probe = new Redis(redis!.url);
    try {
      const keys = await probe.keys(`${prefix}rate:*`);
      expect(keys.length).toBeGreaterThan(0);
    } finally {
      probe.disconnect();
    }
  });

  it('sends calls made while the first connection is set up to Redis, not to the fallback', async () => {
    const logger = memoryLogger();
    const shared = new SharedRedis({ url: redis!.url, key_prefix: prefix, timeout: 2_000 }, logger as never);
    const rate = new RedisRate(shared.link(), { intervalMs: 3_600_000, prefix: `${prefix}early:` });
    try {
      // Called in the same tick as the connection was opened: it cannot be up yet.
      expect(await rate.observe('k')).toBe(1);
      expect(shared.link().available).toBe(true);
      const probe = new Redis(redis!.url);
      try {
        expect(await probe.keys(`${prefix}early:*`)).toHaveLength(1);
      } finally {
        probe.disconnect();
      }
      expect(logger.lines.filter((l) => l.level === 'warn')).toEqual([]);
    } finally {
      await shared.close();
    }
  });

  it('fills the Redis storage through one instance and hits it through the other', async () => {
    const o = await origin();
    const [a, b] = await twoInstances(o.addr, { cache: { storage: 'redis' } });
    // The Host header is part of the key: both proxies must see the same one.
    const headers = { host: 'cached.example' };
    expect((await request(a.url('/c'), { headers })).headers['x-cache-status']).toBe('miss');
    // The commit to Redis may land just after the response: wait until A reads it back from Redis.
    await waitFor(async () => (await request(a.url('/c'), { headers })).headers['x-cache-status'] === 'hit', {
      interval: 20,
      message: 'the asset to be readable from Redis',
    });
    const hit = await request(b.url('/c'), { headers });
    expect(hit.headers['x-cache-status']).toBe('hit');
    expect(hit.body).toBe('/c #1');
    expect(o.count('/c')).toBe(1);
  });
});

describe('Redis unreachable', () => {
  afterEach(closeAll);

  it('falls back on local counting and serves uncached, without waiting on Redis', async () => {
    const seen = new Map<string, number>();
    const o = await startOrigin((req, res) => {
      seen.set(req.url!, (seen.get(req.url!) ?? 0) + 1);
      res.end('ok');
    });
    const logger = memoryLogger();
    const config = configWith(o.addr, {
      redis: { url: `redis://127.0.0.1:${await deadPort()}`, timeout: '200ms' },
      routes: [
        { name: 'r', upstream: 'app', rate_limit: { requests: 2, per: '1h', store: 'redis' } },
        { name: 'c', upstream: 'app', cache: { storage: 'redis' } },
      ],
    });
    const policies = buildPolicies(config, { baseDir: '.', logger: logger as never });
    try {
      const limited = await startRouteProxy({
        origin: o.addr,
        guards: policies.rateLimitGuards(config.routes[0]!, 'r'),
      });
      const cached = await startRouteProxy({
        origin: o.addr,
        cache: policies.routeCache(config.routes[1]!, 'c'),
      });
      await policies.ready();
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await request(limited.url('/l'))).status);
      expect(statuses).toEqual([200, 200, 429]);
      for (let i = 0; i < 2; i++) expect((await request(cached.url('/c'))).status).toBe(200);
      expect(seen.get('/c')).toBe(2);
      // The outage is logged once, as a warning.
      expect(
        logger.lines.filter((l) => l.level === 'warn' && l.msg.startsWith('redis: unreachable')),
      ).toHaveLength(1);
    } finally {
      await policies.close();
    }
  });
});
