/**
 * `FileCacheLock`: the cache lock across the processes of one machine (the workers of one server
 * sharing a `DiskStorage`): one origin fetch for a stampede spread over every worker.
 */
import type { CacheKeyLock, CacheLockOptions } from './cache-lock.js';
import { FileWritePermit, LeaderLock, type PollSettings } from './file-lock-handles.js';
import type { WritePermit } from './handles.js';
import { LockFiles, pidAlive } from './lock-files.js';
import { type Locked, LockTable } from './lock-table.js';
import type { UnlockReason } from './status.js';

/** Settings of a {@link FileCacheLock}. */
export interface FileCacheLockOptions extends CacheLockOptions {
  /** The directory of the lock files, the same for every process (created if missing). */
  readonly dir: string;
  /**
   * Longest pause, in ms, between two looks at another process's lock file (polling starts at 2 ms
   * and doubles up to this). Default 50.
   */
  readonly maxPollMs?: number;
}

/**
 * A {@link CacheKeyLock} whose writer holds a lock file (`O_EXCL`, with its pid and a timestamp) that
 * the other processes wait on. Same semantics as {@link CacheLock}: `ageTimeoutMs` bounds how long a
 * writer holds a key (its file is stale past it, or as soon as its process is gone), `waitTimeoutMs`
 * how long a reader waits. In a process, requests queue in memory behind one leader, which alone
 * touches the file; the writer is told it won by a `TransientError` wait result carrying its permit,
 * as a reader elected writer is, so it looks up once more before fetching.
 *
 * @example
 * ```ts
 * const lock = new FileCacheLock({ dir: '/var/cache/pingora/locks', ageTimeoutMs: 10_000, waitTimeoutMs: 5_000 });
 * // In requestCacheFilter, in every worker:
 * session.cache.enable(diskStorage, undefined, predictor, lock);
 * ```
 */
export class FileCacheLock implements CacheKeyLock {
  readonly #table: LockTable;
  readonly #files: LockFiles;
  readonly #poll: PollSettings;

  constructor(options: FileCacheLockOptions) {
    const { ageTimeoutMs, waitTimeoutMs, dir, maxPollMs = 50 } = options;
    if (typeof dir !== 'string' || dir === '')
      throw new TypeError('FileCacheLock: dir must be a directory path');
    checkTimeout('ageTimeoutMs', ageTimeoutMs);
    if (waitTimeoutMs !== undefined) checkTimeout('waitTimeoutMs', waitTimeoutMs);
    checkTimeout('maxPollMs', maxPollMs);
    this.#table = new LockTable(ageTimeoutMs, waitTimeoutMs);
    this.#files = new LockFiles(dir);
    this.#poll = {
      ageTimeoutMs,
      waitTimeoutMs,
      firstPollMs: Math.min(2, maxPollMs),
      maxPollMs,
      alive: pidAlive,
    };
  }

  /** The directory of the lock files. */
  get dir(): string {
    return this.#files.dir;
  }

  /** The age timeout, in milliseconds. */
  get ageTimeoutMs(): number {
    return this.#table.ageTimeoutMs;
  }

  /** The reader wait timeout, in milliseconds, if any. */
  get waitTimeoutMs(): number | undefined {
    return this.#table.waitTimeoutMs;
  }

  /** How many keys this process is fetching or waiting on. */
  get size(): number {
    return this.#table.cores.size;
  }

  /**
   * A read lock behind this process's leader for the key, or, for the leader itself, one whose
   * `wait()` takes the lock file (`TransientError` with the permit) or waits for its holder. A stale
   * writer (`staleWriter`, a refresh while the stale asset is served) that leads gets a write permit
   * at once, since a refresh cannot wait; it takes the lock file in the background.
   */
  lock(hashKey: string, staleWriter = false): Locked {
    const inner = this.#table.lock(hashKey, staleWriter);
    if (inner.kind === 'read') return inner;
    const core = this.#table.cores.get(hashKey);
    if (core === undefined) throw new Error('FileCacheLock: lock table out of sync');
    if (staleWriter)
      return { kind: 'write', permit: FileWritePermit.optimistic(this.#table, core, this.#files) };
    return { kind: 'read', lock: new LeaderLock(this.#table, core, staleWriter, this.#files, this.#poll) };
  }

  /**
   * Resolves once the lock files of every permit unlocked so far are removed (unlocking removes them
   * in the background). Call it before the process exits, so no live-looking file outlives it.
   */
  flush(): Promise<void> {
    return this.#files.flush();
  }

  /** Same as `permit.unlock(reason)`. */
  release(permit: WritePermit, reason: UnlockReason): void {
    permit.unlock(reason);
  }
}

function checkTimeout(name: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(`FileCacheLock: ${name} must be a positive number of milliseconds, got ${value}`);
  }
}
