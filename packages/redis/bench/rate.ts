/**
 * Distributed rate limiting on one Redis: `RedisRate` against rate-limiter-flexible's
 * `RateLimiterRedis`, same redis-server, same run. Three limiter instances, each on its own ioredis
 * connection (three proxies), hammer one key with a limit of LIMIT per 60 s window, so the whole
 * run sits in one window and the allowed count must equal the limit. Reported: allowed / limit,
 * calls per second (all three instances in this one process), commands each call sends to Redis
 * (round trips, counted on the client) and commands Redis executes per call (INFO commandstats,
 * script-internal ones included). `local Rate` is the fallback alone: three instances counting
 * on their own, as while Redis is down.
 *
 *   cd packages/redis
 *   npx tsx --conditions=@pingora-ts/source bench/rate.ts [calls per instance = 20000] [rounds = 5]
 */
import { randomBytes } from 'node:crypto';
import { Rate } from '@pingora-ts/limits';
import type { Redis } from 'ioredis';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { RedisRate } from '../src/index.js';
import { TestRedis } from '../test/redis-server.js';

const CALLS = Number(process.argv[2] ?? 20_000);
const ROUNDS = Number(process.argv[3] ?? 5);
const INSTANCES = 3;
const CONCURRENCY = 16; // callers in flight per instance
const LIMIT = Math.floor((CALLS * INSTANCES) / 4);

type Limiter = (key: string) => Promise<boolean>;

interface Result {
  allowed: number;
  callsPerSec: number;
  sentPerCall: number;
  executedPerCall: number;
}

/** Counts the commands a client writes (each is one request/response on the wire). */
function countCommands(client: Redis): { count: number } {
  const counter = { count: 0 };
  const send = client.sendCommand.bind(client);
  client.sendCommand = ((...args: Parameters<Redis['sendCommand']>) => {
    counter.count++;
    return send(...args);
  }) as Redis['sendCommand'];
  return counter;
}

async function executed(admin: Redis): Promise<number> {
  const info = await admin.info('commandstats');
  let total = 0;
  for (const m of info.matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)) if (m[1] !== 'info') total += Number(m[2]);
  return total;
}

async function measure(
  redis: TestRedis,
  admin: Redis,
  make: (client: Redis, prefix: string) => Limiter,
): Promise<Result> {
  const prefix = `bench:${randomBytes(4).toString('hex')}:`;
  const clients = await Promise.all(
    Array.from({ length: INSTANCES }, () => redis.readyClient({ commandTimeout: 5_000 })),
  );
  const counters = clients.map(countCommands);
  const limiters = clients.map((c) => make(c, prefix));
  // Warm up: scripts loaded, connections busy once.
  await Promise.all(limiters.map((l) => l('warmup')));
  const sentBefore = counters.reduce((s, c) => s + c.count, 0);
  const execBefore = await executed(admin);
  let allowed = 0;
  const start = performance.now();
  await Promise.all(
    limiters.flatMap((limiter) =>
      Array.from({ length: CONCURRENCY }, async () => {
        for (let i = 0; i < CALLS / CONCURRENCY; i++) if (await limiter('app')) allowed++;
      }),
    ),
  );
  const seconds = (performance.now() - start) / 1000;
  const calls = INSTANCES * CALLS;
  const sent = counters.reduce((s, c) => s + c.count, 0) - sentBefore;
  const exec = (await executed(admin)) - execBefore - 1; // minus this INFO's neighbour
  for (const c of clients) c.disconnect();
  return {
    allowed,
    callsPerSec: calls / seconds,
    sentPerCall: sent / calls,
    executedPerCall: Math.max(0, exec) / calls,
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const redis = await TestRedis.start();
  const admin = await redis.readyClient();
  const kinds: [string, (client: Redis, prefix: string) => Limiter][] = [
    [
      'pingora-ts `RedisRate`',
      (client, prefix) => {
        const rate = new RedisRate(client, { intervalMs: 60_000, prefix, timeoutMs: 5_000 });
        return async (key) => (await rate.observe(key)) <= LIMIT;
      },
    ],
    [
      'rate-limiter-flexible `RateLimiterRedis`',
      (client, prefix) => {
        const rl = new RateLimiterRedis({
          storeClient: client,
          points: LIMIT,
          duration: 60,
          keyPrefix: prefix,
        });
        return (key) =>
          rl.consume(key, 1).then(
            () => true,
            () => false,
          );
      },
    ],
    [
      'local `Rate` per instance (the fallback)',
      () => {
        const rate = new Rate(60_000);
        return async (key) => rate.observe(key) <= LIMIT;
      },
    ],
  ];
  // Rounds interleave the limiters, so a busy moment on the machine hits all of them alike.
  const all: Result[][] = kinds.map(() => []);
  for (let r = 0; r < ROUNDS; r++) {
    for (const [i, [, make]] of kinds.entries()) all[i]!.push(await measure(redis, admin, make));
  }
  const rows: string[] = [];
  for (const [i, [name]] of kinds.entries()) {
    const results = all[i]!;
    const allowed = results.map((x) => x.allowed);
    const pct = (a: number) => `${((a / LIMIT) * 100).toFixed(1)} %`;
    const same = allowed.every((a) => a === allowed[0]);
    const accuracy = same ? `${pct(allowed[0]!)} in all ${ROUNDS} rounds` : allowed.map(pct).join(' / ');
    const rates = results.map((x) => x.callsPerSec);
    const k = (n: number) => `${Math.round(n / 1000)}k`;
    rows.push(
      `| ${name} | ${accuracy} | ${k(median(rates))} (${k(Math.min(...rates))}–${k(Math.max(...rates))}) | ${median(results.map((x) => x.sentPerCall)).toFixed(2)} | ${median(results.map((x) => x.executedPerCall)).toFixed(2)} |`,
    );
  }
  console.log(
    `${INSTANCES} instances × ${CALLS.toLocaleString('en-US')} calls, ${CONCURRENCY} in flight each, limit ${LIMIT.toLocaleString('en-US')} per 60 s window, ${ROUNDS} rounds; node ${process.version}, redis-server on loopback\n`,
  );
  console.log(
    '| limiter | allowed / limit | calls/s, median (min–max) | round trips per call | commands Redis ran per call |',
  );
  console.log('|---|---|---|---|---|');
  for (const row of rows) console.log(row);
  await redis.close();
}

await main();
