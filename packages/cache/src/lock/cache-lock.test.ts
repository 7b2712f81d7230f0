import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CacheLock } from './cache-lock.js';
import type { ReadLock, WritePermit } from './handles.js';
import type { Locked } from './lock-table.js';
import type { WaitResult } from './status.js';

const KEY = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';

function writer(locked: Locked): WritePermit {
  if (locked.kind !== 'write') throw new Error('expected a write permit');
  return locked.permit;
}

function reader(locked: Locked): ReadLock {
  if (locked.kind !== 'read') throw new Error('expected a read lock');
  return locked.lock;
}

/** Records a promise's value as soon as it settles, so a test can assert it is still pending. */
function track<T>(promise: Promise<T>): { value: T | undefined } {
  const state: { value: T | undefined } = { value: undefined };
  void promise.then((v) => {
    state.value = v;
  });
  return state;
}

async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('CacheLock (Pingora lock.rs cases)', () => {
  it('hands the write permit to the first caller and again after release', () => {
    const cacheLock = new CacheLock({ ageTimeoutMs: 1_000_000 });
    const permit = writer(cacheLock.lock(KEY));
    expect(cacheLock.lock(KEY).kind).toBe('read');
    cacheLock.release(permit, 'Done');
    expect(cacheLock.size).toBe(0);
    const again = writer(cacheLock.lock(KEY));
    cacheLock.release(again, 'Done');
    expect(cacheLock.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('wakes a reader with Done when the writer unlocks', async () => {
    const cacheLock = new CacheLock({ ageTimeoutMs: 1_000_000 });
    const permit = writer(cacheLock.lock(KEY));
    const lock = reader(cacheLock.lock(KEY));
    expect(lock.locked).toBe(true);
    const result = track(lock.wait());
    await flush();
    expect(result.value).toBeUndefined();
    expect(permit.unlock('Done')).toBe(true);
    await flush();
    expect(result.value).toEqual({ status: 'Done' });
    expect(lock.locked).toBe(false);
    expect(lock.status).toBe('Done');
  });

  it('expires a stuck writer after ageTimeoutMs and lets the next caller write', async () => {
    const cacheLock = new CacheLock({ ageTimeoutMs: 1000 });
    const permit = writer(cacheLock.lock(KEY));
    const lock = reader(cacheLock.lock(KEY));
    const result = track(lock.wait());
    await vi.advanceTimersByTimeAsync(999);
    expect(result.value).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(result.value).toEqual({ status: 'AgeTimeout' });
    expect(lock.status).toBe('AgeTimeout');
    expect(permit.status).toBe('AgeTimeout');
    expect(cacheLock.size).toBe(0);

    const permit2 = writer(cacheLock.lock(KEY));
    const lock2 = reader(cacheLock.lock(KEY));
    const result2 = track(lock2.wait());
    // The expired writer finally finishes: it must not end or remove its successor's lock.
    expect(permit.unlock('Done')).toBe(false);
    expect(cacheLock.size).toBe(1);
    await flush();
    expect(result2.value).toBeUndefined();
    permit2.unlock('Done');
    await flush();
    expect(result2.value).toEqual({ status: 'Done' });
    expect(cacheLock.size).toBe(0);
  });

  it('expires a lock nobody waits on and then hands out a fresh one', async () => {
    const cacheLock = new CacheLock({ ageTimeoutMs: 1000 });
    const permit = writer(cacheLock.lock(KEY));
    expect(permit.status).toBe('Waiting');
    await vi.advanceTimersByTimeAsync(1100);
    expect(permit.status).toBe('AgeTimeout');
    expect(cacheLock.size).toBe(0);
    cacheLock.release(permit, 'Done');
    const fresh = writer(cacheLock.lock(KEY));
    expect(fresh.status).toBe('Waiting');
    const lock = reader(cacheLock.lock(KEY));
    const result = track(lock.wait());
    fresh.unlock('Done');
    await flush();
    expect(result.value).toEqual({ status: 'Done' });
  });

  it('lets concurrent requests in a lookup/lock loop finish with one fetch', async () => {
    const cacheLock = new CacheLock({ ageTimeoutMs: 1000 });
    const cached = new Set<string>();
    let fetches = 0;
    const request = async (): Promise<void> => {
      for (;;) {
        if (cached.has(KEY)) return;
        const locked = cacheLock.lock(KEY);
        if (locked.kind === 'write') {
          fetches++;
          await new Promise((resolve) => setTimeout(resolve, 5));
          cached.add(KEY);
          cacheLock.release(locked.permit, 'Done');
          return;
        }
        await locked.lock.wait();
      }
    };
    const all = Promise.all(Array.from({ length: 30 }, request));
    await vi.advanceTimersByTimeAsync(5);
    await all;
    expect(fetches).toBe(1);
    expect(cacheLock.size).toBe(0);
  });
});

describe('CacheLock stampede', () => {
  it('gives 1,000 concurrent callers one writer and wakes the 999 readers with Done', async () => {
    const cacheLock = new CacheLock({ ageTimeoutMs: 10_000, waitTimeoutMs: 5_000 });
    const results = Array.from({ length: 1000 }, () => cacheLock.lock(KEY));
    const permits = results.filter((r) => r.kind === 'write');
    expect(permits).toHaveLength(1);
    const waits = results.map((r) => (r.kind === 'read' ? r.lock.wait() : undefined)).filter((w) => !!w);
    expect(waits).toHaveLength(999);
    const settled = waits.map(track);
    await flush();
    expect(settled.every((s) => s.value === undefined)).toBe(true);
    writer(permits[0]!).unlock('Done');
    const outcomes = await Promise.all(waits);
    expect(outcomes.every((o) => o.status === 'Done')).toBe(true);
    expect(cacheLock.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('elects exactly one new writer per transient error until one succeeds', async () => {
    const cacheLock = new CacheLock({ ageTimeoutMs: 10_000 });
    let permit = writer(cacheLock.lock(KEY));
    const waits = Array.from({ length: 100 }, () => track(reader(cacheLock.lock(KEY)).wait()));
    await flush();
    // Three writers in a row fail; each failure promotes exactly the longest-waiting reader.
    for (let failure = 0; failure < 3; failure++) {
      permit.unlock('TransientError');
      await flush();
      const elected = waits.filter((w) => w.value?.status === 'TransientError');
      expect(elected).toHaveLength(failure + 1);
      expect(waits.slice(0, failure + 1).every((w) => w.value?.status === 'TransientError')).toBe(true);
      expect(waits.slice(failure + 1).every((w) => w.value === undefined)).toBe(true);
      expect(cacheLock.size).toBe(1);
      const next = waits[failure]!.value as Extract<WaitResult, { status: 'TransientError' }>;
      expect(next.permit.hashKey).toBe(KEY);
      expect(next.permit.status).toBe('Waiting');
      permit = next.permit;
    }
    permit.unlock('Done');
    await flush();
    expect(waits.slice(3).every((w) => w.value?.status === 'Done')).toBe(true);
    expect(cacheLock.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('CacheLock outcomes', () => {
  it('sends every reader upstream on GiveUp', async () => {
    const cacheLock = new CacheLock({ ageTimeoutMs: 10_000 });
    const permit = writer(cacheLock.lock(KEY));
    const waits = [reader(cacheLock.lock(KEY)).wait(), reader(cacheLock.lock(KEY)).wait()];
    permit.unlock('GiveUp');
    expect(await Promise.all(waits)).toEqual([{ status: 'GiveUp' }, { status: 'GiveUp' }]);
    expect(cacheLock.size).toBe(0);
  });

  it('marks a permit disposed of without an unlock as Dangling', async () => {
    const cacheLock = new CacheLock({ ageTimeoutMs: 10_000 });
    let wait: Promise<WaitResult> | undefined;
    {
      using permit = writer(cacheLock.lock(KEY));
      wait = reader(cacheLock.lock(KEY)).wait();
      expect(permit.finished).toBe(false);
    }
    expect(await wait).toEqual({ status: 'Dangling' });
    expect(cacheLock.size).toBe(0);
    expect(cacheLock.lock(KEY).kind).toBe('write');
  });

  it('does not mark a permit Dangling on dispose after a proper unlock', async () => {
    const cacheLock = new CacheLock({ ageTimeoutMs: 10_000 });
    let wait: Promise<WaitResult> | undefined;
    {
      using permit = writer(cacheLock.lock(KEY));
      wait = reader(cacheLock.lock(KEY)).wait();
      permit.unlock('Done');
    }
    expect(await wait).toEqual({ status: 'Done' });
  });

  it('times a reader out after waitTimeoutMs while the writer keeps the lock', async () => {
    const cacheLock = new CacheLock({ ageTimeoutMs: 1000, waitTimeoutMs: 100 });
    const permit = writer(cacheLock.lock(KEY));
    const first = track(reader(cacheLock.lock(KEY)).wait());
    await vi.advanceTimersByTimeAsync(50);
    const second = track(reader(cacheLock.lock(KEY)).wait());
    await vi.advanceTimersByTimeAsync(50);
    expect(first.value).toEqual({ status: 'WaitTimeout' });
    expect(second.value).toBeUndefined();
    expect(cacheLock.size).toBe(1);
    await vi.advanceTimersByTimeAsync(50);
    expect(second.value).toEqual({ status: 'WaitTimeout' });
    expect(permit.status).toBe('Waiting');
    permit.unlock('Done');
    expect(cacheLock.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('keeps a reader’s wait deadline when it moves to a newly elected writer', async () => {
    const cacheLock = new CacheLock({ ageTimeoutMs: 1000, waitTimeoutMs: 100 });
    const permit = writer(cacheLock.lock(KEY));
    const a = track(reader(cacheLock.lock(KEY)).wait());
    const b = track(reader(cacheLock.lock(KEY)).wait());
    await vi.advanceTimersByTimeAsync(60);
    permit.unlock('TransientError');
    await flush();
    expect(a.value?.status).toBe('TransientError');
    expect(b.value).toBeUndefined();
    await vi.advanceTimersByTimeAsync(40);
    expect(b.value).toEqual({ status: 'WaitTimeout' });
    (a.value as Extract<WaitResult, { status: 'TransientError' }>).permit.unlock('Done');
    expect(cacheLock.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('answers a reader that starts waiting after the writer finished', async () => {
    const cacheLock = new CacheLock({ ageTimeoutMs: 1000 });
    const permit = writer(cacheLock.lock(KEY));
    const lock = reader(cacheLock.lock(KEY));
    permit.unlock('Done');
    expect(await lock.wait()).toEqual({ status: 'Done' });
    expect(lock.wait()).toBe(lock.wait());
  });

  it('elects a late reader after a transient error unless someone took the key first', async () => {
    const cacheLock = new CacheLock({ ageTimeoutMs: 1000 });
    const permit = writer(cacheLock.lock(KEY));
    const late1 = reader(cacheLock.lock(KEY));
    const late2 = reader(cacheLock.lock(KEY));
    permit.unlock('TransientError');
    expect(cacheLock.size).toBe(0);
    const r1 = await late1.wait();
    expect(r1.status).toBe('TransientError');
    expect(cacheLock.size).toBe(1);
    const r2 = track(late2.wait());
    await flush();
    expect(r2.value).toBeUndefined();
    (r1 as Extract<WaitResult, { status: 'TransientError' }>).permit.unlock('Done');
    await flush();
    expect(r2.value).toEqual({ status: 'Done' });
    expect(cacheLock.size).toBe(0);
  });

  it('carries the elected reader’s staleWriter flag on its permit', async () => {
    const cacheLock = new CacheLock({ ageTimeoutMs: 1000 });
    const permit = writer(cacheLock.lock(KEY, false));
    expect(permit.staleWriter).toBe(false);
    const wait = reader(cacheLock.lock(KEY, true)).wait();
    permit.unlock('TransientError');
    const result = await wait;
    if (result.status !== 'TransientError') throw new Error('expected an election');
    expect(result.permit.staleWriter).toBe(true);
    result.permit.unlock('Done');
  });

  it('never elects a reader that cancelled its wait', async () => {
    const cacheLock = new CacheLock({ ageTimeoutMs: 1000, waitTimeoutMs: 500 });
    const permit = writer(cacheLock.lock(KEY));
    const gone = reader(cacheLock.lock(KEY));
    const goneResult = track(gone.wait());
    const stays = track(reader(cacheLock.lock(KEY)).wait());
    expect(gone.cancel()).toBe(true);
    expect(gone.cancel()).toBe(false);
    await flush();
    expect(goneResult.value).toEqual({ status: 'WaitTimeout' });
    permit.unlock('TransientError');
    await flush();
    expect(stays.value?.status).toBe('TransientError');
    (stays.value as Extract<WaitResult, { status: 'TransientError' }>).permit.unlock('Done');
    expect(cacheLock.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('answers WaitTimeout to a reader cancelled before it waited', async () => {
    const cacheLock = new CacheLock({ ageTimeoutMs: 1000 });
    const permit = writer(cacheLock.lock(KEY));
    const lock = reader(cacheLock.lock(KEY));
    expect(lock.cancel()).toBe(true);
    expect(await lock.wait()).toEqual({ status: 'WaitTimeout' });
    permit.unlock('TransientError');
    expect(cacheLock.size).toBe(0);
  });

  it('keeps keys independent', () => {
    const cacheLock = new CacheLock({ ageTimeoutMs: 1000 });
    const a = writer(cacheLock.lock('aa'));
    const b = writer(cacheLock.lock('bb'));
    expect(cacheLock.size).toBe(2);
    a.unlock('Done');
    expect(cacheLock.lock('bb').kind).toBe('read');
    b.unlock('Done');
    expect(cacheLock.size).toBe(0);
  });

  it('unlocks once and rejects statuses that are not unlock reasons', () => {
    const cacheLock = new CacheLock({ ageTimeoutMs: 1000 });
    const permit = writer(cacheLock.lock(KEY));
    expect(() => permit.unlock('Waiting' as never)).toThrow(TypeError);
    expect(() => permit.unlock('WaitTimeout' as never)).toThrow(TypeError);
    expect(permit.unlock('Done')).toBe(true);
    expect(permit.unlock('Done')).toBe(false);
    expect(permit.finished).toBe(true);
  });

  it('rejects timeouts that are not positive numbers', () => {
    expect(() => new CacheLock({ ageTimeoutMs: 0 })).toThrow(RangeError);
    expect(() => new CacheLock({ ageTimeoutMs: Number.NaN })).toThrow(RangeError);
    expect(() => new CacheLock({ ageTimeoutMs: 1, waitTimeoutMs: -1 })).toThrow(RangeError);
    const ok = new CacheLock({ ageTimeoutMs: 5, waitTimeoutMs: 2 });
    expect([ok.ageTimeoutMs, ok.waitTimeoutMs]).toEqual([5, 2]);
  });
});
