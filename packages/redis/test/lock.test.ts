import { randomBytes } from 'node:crypto';
import type { Locked, WaitResult, WritePermit } from '@pingora-ts/cache';
import { waitFor } from '@pingora-ts/test-utils';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisCacheLock, type RedisCacheLockOptions } from '../src/index.js';
import { redisAvailable, TestRedis } from './redis-server.js';

const run = redisAvailable();
let redis: TestRedis;
const locks: RedisCacheLock[] = [];

beforeAll(async () => {
  if (run) redis = await TestRedis.start({ allowExternal: true });
});
afterEach(() => {
  for (const l of locks.splice(0)) l.close();
});
afterAll(async () => redis?.close());

/** Lock instances on separate connections sharing one prefix, as separate proxies would. */
async function instances(n: number, options: Partial<RedisCacheLockOptions> = {}) {
  const prefix = `t:${randomBytes(4).toString('hex')}:`;
  const out: RedisCacheLock[] = [];
  for (let i = 0; i < n; i++) {
    const lock = new RedisCacheLock(await redis.readyClient(), { ageTimeoutMs: 10_000, prefix, ...options });
    locks.push(lock);
    out.push(lock);
  }
  return { prefix, out };
}

function reader(locked: Locked) {
  if (locked.kind !== 'read') throw new Error('expected a read lock');
  return locked.lock;
}

function track(p: Promise<WaitResult>) {
  const s: { value: WaitResult | undefined } = { value: undefined };
  void p.then((v) => {
    s.value = v;
  });
  return s;
}

/** Several Redis round trips on a third connection: time for anything already sent to land. */
async function roundTrips(n = 5): Promise<void> {
  const c = await redis.readyClient();
  for (let i = 0; i < n; i++) await c.ping();
  c.disconnect();
}

function permitOf(r: WaitResult | undefined): WritePermit {
  if (r?.status !== 'TransientError') throw new Error(`expected an election, got ${r?.status}`);
  return r.permit;
}

describe.runIf(run)('RedisCacheLock', () => {
  it('elects one writer across two instances and releases the other on unlock (pub/sub)', async () => {
    // Polls back off to 30 s: only the release message can wake the loser in time.
    const { out } = await instances(2, { maxPollMs: 30_000 });
    const [a, b] = out as [RedisCacheLock, RedisCacheLock];
    const wa = track(reader(a.lock('k1')).wait());
    const wb = track(reader(b.lock('k1')).wait());
    await waitFor(() => wa.value !== undefined || wb.value !== undefined, { message: 'an election' });
    const [winner, loser] = wa.value !== undefined ? [wa, wb] : [wb, wa];
    const permit = permitOf(winner.value);
    await roundTrips();
    expect(loser.value).toBeUndefined();
    permit.unlock('Done');
    await waitFor(() => loser.value !== undefined, { message: 'the loser to be released' });
    expect(loser.value).toEqual({ status: 'Done' });
  });

  it('lets a stampede across three instances produce exactly one writer', async () => {
    const { out } = await instances(3);
    const waits = out.flatMap((l) => Array.from({ length: 20 }, () => track(reader(l.lock('hot')).wait())));
    await waitFor(() => waits.some((w) => w.value !== undefined), { message: 'an election' });
    await roundTrips();
    const elected = waits.filter((w) => w.value?.status === 'TransientError');
    expect(elected).toHaveLength(1);
    expect(waits.filter((w) => w.value !== undefined)).toHaveLength(1);
    permitOf(elected[0]!.value).unlock('Done');
    await waitFor(() => waits.every((w) => w.value !== undefined), { message: 'every reader released' });
    expect(waits.filter((w) => w.value?.status === 'Done')).toHaveLength(59);
    await waitFor(() => out.every((l) => l.size === 0), { message: 'every local lock gone' });
  });

  it('polls without a subscriber, hands GiveUp on, and re-elects after a transient error', async () => {
    const { out } = await instances(2, { subscriber: false, maxPollMs: 20 });
    const [a, b] = out as [RedisCacheLock, RedisCacheLock];
    const wa = track(reader(a.lock('k2')).wait());
    await waitFor(() => wa.value !== undefined, { message: 'a to be elected' });
    const wb = track(reader(b.lock('k2')).wait());
    await roundTrips();
    expect(wb.value).toBeUndefined();
    // The writer fails: the waiter on the other instance becomes the writer.
    permitOf(wa.value).unlock('TransientError');
    await waitFor(() => wb.value !== undefined, { message: 'b to be elected' });
    const permit = permitOf(wb.value);
    const wa2 = track(reader(a.lock('k2')).wait());
    await roundTrips();
    expect(wa2.value).toBeUndefined();
    permit.unlock('GiveUp');
    await waitFor(() => wa2.value !== undefined, { message: 'a to hear GiveUp' });
    expect(wa2.value).toEqual({ status: 'GiveUp' });
  });

  it('expires a dead writer after its lock age', async () => {
    const { prefix, out } = await instances(1, { maxPollMs: 20 });
    const c = await redis.readyClient();
    // A writer that crashed holding the key: its lock expires after 2 s.
    await c.set(`${prefix}{k3}`, 'dead-token', 'PX', 2000);
    const w = track(reader(out[0]!.lock('k3')).wait());
    await roundTrips();
    expect(w.value).toBeUndefined();
    await waitFor(() => w.value !== undefined, { message: 'the dead lock to expire' });
    expect(await c.get(`${prefix}{k3}`)).not.toBe('dead-token');
    permitOf(w.value).unlock('Done');
    await waitFor(async () => (await c.get(`${prefix}{k3}`)) === null, { message: 'the lock released' });
  });

  it('releases the Redis key when every local waiter left before the election', async () => {
    const { prefix, out } = await instances(2, { maxPollMs: 20 });
    const [a, b] = out as [RedisCacheLock, RedisCacheLock];
    const gone = reader(a.lock('k4'));
    expect(gone.cancel()).toBe(true);
    const c = await redis.readyClient();
    await waitFor(async () => (await c.get(`${prefix}{k4}`)) === null, { message: 'the unused lock to go' });
    const wb = track(reader(b.lock('k4')).wait());
    await waitFor(() => wb.value !== undefined, { message: 'b to be elected' });
    permitOf(wb.value).unlock('Done');
  });

  it('uses a subscriber passed in, and leaves it open on close', async () => {
    const prefix = `t:${randomBytes(4).toString('hex')}:`;
    const subscriber = await redis.readyClient();
    const options = { ageTimeoutMs: 10_000, prefix, maxPollMs: 30_000 };
    const a = new RedisCacheLock(await redis.readyClient(), options);
    const b = new RedisCacheLock(await redis.readyClient(), { ...options, subscriber });
    locks.push(a, b);
    const wa = track(reader(a.lock('k5')).wait());
    await waitFor(() => wa.value !== undefined, { message: 'a to be elected' });
    const wb = track(reader(b.lock('k5')).wait());
    const admin = await redis.readyClient();
    const subscribers = async () =>
      Number(((await admin.pubsub('NUMSUB', `${prefix}released`)) as unknown[])[1]);
    // Both instances listen for releases: a's own connection, and the one passed to b.
    await waitFor(async () => (await subscribers()) === 2, { message: 'two subscribers' });
    permitOf(wa.value).unlock('Done');
    await waitFor(() => wb.value !== undefined, { message: 'b woken by the message' });
    expect(wb.value).toEqual({ status: 'Done' });
    b.close();
    a.close();
    expect(subscriber.status).toBe('ready');
    await waitFor(async () => (await subscribers()) === 1, { message: 'a to unsubscribe' });
  });

  it('takes the cache lock options and rejects bad ones', () => {
    const client = redis.client();
    expect(() => new RedisCacheLock(client, { ageTimeoutMs: 0 })).toThrow(RangeError);
    expect(() => new RedisCacheLock(client, { ageTimeoutMs: 10, maxPollMs: 0 })).toThrow(RangeError);
    const lock = new RedisCacheLock(client, { ageTimeoutMs: 10, waitTimeoutMs: 5 });
    expect([lock.ageTimeoutMs, lock.waitTimeoutMs]).toEqual([10, 5]);
    lock.close();
  });
});
