import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '@pingora-ts/test-utils';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FileCacheLock } from './file-lock.js';
import type { WritePermit } from './handles.js';
import { LockFiles } from './lock-files.js';
import type { Locked } from './lock-table.js';

const KEY = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true, maxRetries: 5 });
});

function lockDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pingora-lock-'));
  dirs.push(dir);
  return dir;
}

/** The permit a leader gets when it takes the lock file. */
async function lead(locked: Locked): Promise<WritePermit> {
  if (locked.kind !== 'read') throw new Error('FileCacheLock hands out read locks');
  const result = await locked.lock.wait();
  if (result.status !== 'TransientError') throw new Error(`expected to win the file, got ${result.status}`);
  return result.permit;
}

function foreignLock(dir: string, pid: number, at: number): string {
  const path = new LockFiles(dir).path(KEY);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path, `${pid} ${at} ${'f'.repeat(16)}`);
  return path;
}

describe('FileCacheLock', () => {
  it('the leader takes the lock file; requests of the same process queue behind it in memory', async () => {
    const dir = lockDir();
    const lock = new FileCacheLock({ dir, ageTimeoutMs: 10_000 });
    const permit = await lead(lock.lock(KEY));
    const file = new LockFiles(dir).path(KEY);
    expect(readFileSync(file, 'utf8')).toMatch(new RegExp(`^${process.pid} \\d+ [0-9a-f]{16}$`));
    const queued = lock.lock(KEY);
    if (queued.kind !== 'read') throw new Error('expected a read lock');
    const waited = queued.lock.wait();
    expect(permit.unlock('Done')).toBe(true);
    expect(await waited).toEqual({ status: 'Done' });
    await lock.flush();
    expect(existsSync(file)).toBe(false);
    expect(lock.size).toBe(0);
  });

  it('a second process waits on the lock file and gets it only after the first releases it', async () => {
    const dir = lockDir();
    const first = new FileCacheLock({ dir, ageTimeoutMs: 10_000 });
    const second = new FileCacheLock({ dir, ageTimeoutMs: 10_000, maxPollMs: 5 });
    const permit = await lead(first.lock(KEY));
    let released = false;
    const looks = vi.spyOn(LockFiles.prototype, 'tryAcquire');
    const secondLeader = lead(second.lock(KEY)).then((p) => ({ p, afterRelease: released }));
    // Let the second leader look at a file it must not take several times.
    await waitFor(() => looks.mock.calls.length >= 5, { message: 'five looks at the held lock file' });
    released = true;
    permit.unlock('Done');
    const { p, afterRelease } = await secondLeader;
    expect(afterRelease).toBe(true);
    p.unlock('Done');
    await second.flush();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('breaks a lock file whose process is dead', async () => {
    const dir = lockDir();
    foreignLock(dir, 999_999_999, Date.now());
    const lock = new FileCacheLock({ dir, ageTimeoutMs: 60_000 });
    const permit = await lead(lock.lock(KEY));
    expect(readFileSync(new LockFiles(dir).path(KEY), 'utf8')).toMatch(new RegExp(`^${process.pid} `));
    permit.unlock('Done');
    // The release unlinks in the background: wait for it so the directory is empty before cleanup.
    await lock.flush();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('breaks a lock file older than ageTimeoutMs', async () => {
    const dir = lockDir();
    foreignLock(dir, process.pid, Date.now() - 5_000);
    const lock = new FileCacheLock({ dir, ageTimeoutMs: 1_000 });
    const permit = await lead(lock.lock(KEY));
    permit.unlock('Done');
    await lock.flush();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a leader waits at most waitTimeoutMs on a live file', async () => {
    const dir = lockDir();
    const path = foreignLock(dir, process.pid, Date.now());
    const lock = new FileCacheLock({ dir, ageTimeoutMs: 60_000, waitTimeoutMs: 100 });
    const leader = lock.lock(KEY);
    if (leader.kind !== 'read') throw new Error('expected a read lock');
    expect(await leader.lock.wait()).toEqual({ status: 'WaitTimeout' });
    expect(existsSync(path)).toBe(true);
    expect(lock.size).toBe(0);
  });

  it('cancel stops a leader waiting on another process; its queue then looks up again', async () => {
    const dir = lockDir();
    foreignLock(dir, process.pid, Date.now());
    const lock = new FileCacheLock({ dir, ageTimeoutMs: 60_000 });
    const leader = lock.lock(KEY);
    const queued = lock.lock(KEY);
    if (leader.kind !== 'read' || queued.kind !== 'read') throw new Error('expected read locks');
    const result = leader.lock.wait();
    const queuedResult = queued.lock.wait();
    expect(leader.lock.cancel()).toBe(true);
    expect(leader.lock.cancel()).toBe(false);
    expect(await result).toEqual({ status: 'WaitTimeout' });
    expect(await queuedResult).toEqual({ status: 'Dangling' });
    expect(lock.size).toBe(0);
  });

  it('a transient error wakes the queue to look up again and frees the file for the next leader', async () => {
    const dir = lockDir();
    const lock = new FileCacheLock({ dir, ageTimeoutMs: 10_000 });
    const permit = await lead(lock.lock(KEY));
    const queued = lock.lock(KEY);
    if (queued.kind !== 'read') throw new Error('expected a read lock');
    const result = queued.lock.wait();
    permit.unlock('TransientError');
    expect(await result).toEqual({ status: 'Dangling' });
    const next = await lead(lock.lock(KEY));
    next.unlock('Done');
    await lock.flush();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a leader dropped before it waited frees its queue at once', async () => {
    const lock = new FileCacheLock({ dir: lockDir(), ageTimeoutMs: 60_000 });
    const leader = lock.lock(KEY);
    const queued = lock.lock(KEY);
    if (leader.kind !== 'read' || queued.kind !== 'read') throw new Error('expected read locks');
    const queuedResult = queued.lock.wait();
    expect(leader.lock.cancel()).toBe(true);
    expect(await queuedResult).toEqual({ status: 'Dangling' });
    expect(await leader.lock.wait()).toEqual({ status: 'WaitTimeout' });
    expect(lock.size).toBe(0);
  });

  it('cancel after the wait gave a permit changes nothing', async () => {
    const dir = lockDir();
    const lock = new FileCacheLock({ dir, ageTimeoutMs: 60_000 });
    const leader = lock.lock(KEY);
    if (leader.kind !== 'read') throw new Error('expected a read lock');
    const result = await leader.lock.wait();
    expect(result.status).toBe('TransientError');
    expect(leader.lock.cancel()).toBe(false);
    expect(lock.size).toBe(1);
    if (result.status === 'TransientError') result.permit.unlock('Done');
    expect(lock.size).toBe(0);
    await lock.flush();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a stale writer gets its permit at once and takes the file in the background', async () => {
    const dir = lockDir();
    const refresher = new FileCacheLock({ dir, ageTimeoutMs: 10_000 });
    const other = new FileCacheLock({ dir, ageTimeoutMs: 10_000, maxPollMs: 5 });
    const locked = refresher.lock(KEY, true);
    if (locked.kind !== 'write') throw new Error('expected a write permit');
    expect(locked.permit.staleWriter).toBe(true);
    const file = new LockFiles(dir).path(KEY);
    for (let i = 0; i < 1000 && !existsSync(file); i++) await new Promise((r) => setTimeout(r, 2));
    expect(existsSync(file)).toBe(true);
    let released = false;
    const looks = vi.spyOn(LockFiles.prototype, 'tryAcquire');
    const next = lead(other.lock(KEY)).then((p) => ({ p, afterRelease: released }));
    await waitFor(() => looks.mock.calls.length >= 3, { message: 'three looks at the held lock file' });
    released = true;
    locked.permit.unlock('Done');
    const { p, afterRelease } = await next;
    expect(afterRelease).toBe(true);
    p.unlock('Done');
    await Promise.all([refresher.flush(), other.flush()]);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('removing a lock checks its nonce: another holder’s file stays', async () => {
    const dir = lockDir();
    const files = new LockFiles(dir);
    const taken = await files.tryAcquire(KEY);
    if (!taken.won) throw new Error('expected to take the file');
    expect(await files.removeIf(KEY, '0'.repeat(16))).toBe(false);
    expect((await files.holder(files.path(KEY)))?.nonce).toBe(taken.nonce);
    expect(readdirSync(dir)).toEqual([`${KEY}.lock`]);
    expect(await files.removeIf(KEY, taken.nonce)).toBe(true);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('rejects bad options', () => {
    expect(() => new FileCacheLock({ dir: '', ageTimeoutMs: 1 })).toThrow(/dir must be/);
    expect(() => new FileCacheLock({ dir: 'x', ageTimeoutMs: 0 })).toThrow(/ageTimeoutMs must be a positive/);
    expect(() => new FileCacheLock({ dir: 'x', ageTimeoutMs: 1, maxPollMs: -1 })).toThrow(/maxPollMs/);
  });
});
