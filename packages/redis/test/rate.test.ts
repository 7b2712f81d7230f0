import { randomBytes } from 'node:crypto';
import { PROPORTIONAL_RATE_ESTIMATE_CALC_FN } from '@pingora-ts/limits';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisRate } from '../src/index.js';
import { redisAvailable, TestRedis } from './redis-server.js';

const run = redisAvailable();
let redis: TestRedis;

beforeAll(async () => {
  if (run) redis = await TestRedis.start({ allowExternal: true });
});
afterAll(async () => redis?.close());

const T0 = 1_800_000_000_000; // a window boundary for 1 s and 60 s windows

describe.runIf(run)('RedisRate', () => {
  it('holds N per window exactly across three instances hammering concurrently', async () => {
    // Minute windows: the keys live in Redis for real time (about two windows), and a loaded
    // machine may take seconds for the hammering below.
    let now = T0 + 10;
    const clock = () => now;
    const prefix = `t:${randomBytes(4).toString('hex')}:`;
    const limiters = await Promise.all(
      [0, 1, 2].map(
        async () => new RedisRate(await redis.readyClient(), { intervalMs: 60_000, clock, prefix }),
      ),
    );
    const LIMIT = 500;
    const hammer = async (): Promise<number> => {
      let allowed = 0;
      const one = async (limiter: RedisRate) => {
        for (let i = 0; i < 300; i++) if ((await limiter.observe('app-1')) <= LIMIT) allowed++;
      };
      // Three instances, each with 4 concurrent callers: 3,600 calls for a limit of 500.
      await Promise.all(limiters.flatMap((l) => [one(l), one(l), one(l), one(l)]));
      return allowed;
    };
    expect(await hammer()).toBe(LIMIT);
    expect(await limiters[0]!.observe('app-2')).toBe(1);
    now = T0 + 60_000 + 15_000; // the next window, a quarter in
    expect(await hammer()).toBe(LIMIT);
    expect(await limiters[1]!.rateWith('app-1', (c) => c)).toEqual({
      prevSamples: 3600,
      currSamples: 3600,
      interval: 60_000,
      currentIntervalFraction: 0.25,
    });
    now = T0 + 120_000 + 30_000;
    expect(await limiters[2]!.rate('app-1')).toBe(3600 / 60); // per second
    expect(await limiters[2]!.rateWith('app-1', PROPORTIONAL_RATE_ESTIMATE_CALC_FN)).toBe(1800 / 60);
    now = T0 + 240_000;
    expect(await limiters[0]!.rate('app-1')).toBe(0);
  });

  it('counts n events at once and keys apart, and rejects bad input', async () => {
    const now = T0 + 5;
    const rate = new RedisRate(await redis.readyClient(), {
      intervalMs: 60_000,
      clock: () => now,
      prefix: `t:${randomBytes(4).toString('hex')}:`,
    });
    expect(await rate.observe('bytes', 1500)).toBe(1500);
    expect(await rate.observe('bytes', 500)).toBe(2000);
    expect(await rate.observe('other')).toBe(1);
    await expect(rate.observe('bytes', 1.5)).rejects.toThrow(RangeError);
    expect(() => new RedisRate(redis.client(), { intervalMs: 0 })).toThrow(RangeError);
    expect(() => new RedisRate(redis.client(), { intervalMs: 10, fallback: 'maybe' as never })).toThrow(
      RangeError,
    );
  });
});
