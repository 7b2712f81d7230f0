/**
 * `CacheLock`: cache-miss stampede protection. The first request to miss a key fetches it; the
 * others wait for that one fetch instead of all going upstream at once.
 */
import type { WritePermit } from './handles.js';
import { type Locked, LockTable } from './lock-table.js';
import type { UnlockReason } from './status.js';

/** Settings of a {@link CacheLock}. */
export interface CacheLockOptions {
  /**
   * How long a writer may hold a lock, in milliseconds. Past it the lock expires: its readers wake
   * with `AgeTimeout` and the next caller for the key becomes the writer.
   */
  readonly ageTimeoutMs: number;
  /**
   * How long one reader waits, in milliseconds, across every writer it waits on (a reader moved to a
   * new writer after a transient error keeps its deadline). Unset: readers wait as long as the lock
   * lives, which `ageTimeoutMs` bounds.
   */
  readonly waitTimeoutMs?: number;
}

/**
 * What the cache needs from a lock, so a user may bring their own (Pingora's `CacheKeyLock`).
 */
export interface CacheKeyLock {
  /** Takes the write permit for `hashKey` or a read lock behind its current writer. */
  lock(hashKey: string, staleWriter?: boolean): Locked;
  /** Ends the permit's lock with `reason`. */
  release(permit: WritePermit, reason: UnlockReason): void;
}

/**
 * One lock per cache key being fetched, keyed by the key's combined hash
 * (`CompactCacheKey.combinedHex()`). A released or expired key leaves the table at once.
 *
 * @example
 * ```ts
 * const cacheLock = new CacheLock({ ageTimeoutMs: 10_000, waitTimeoutMs: 5_000 });
 * const locked = cacheLock.lock(hashKey);
 * if (locked.kind === 'write') {
 *   const ok = await fetchIntoCache();
 *   cacheLock.release(locked.permit, ok ? 'Done' : 'TransientError');
 * } else {
 *   const result = await locked.lock.wait();
 *   // Done: look the asset up again; TransientError: result.permit, this request now writes; ...
 * }
 * ```
 */
export class CacheLock implements CacheKeyLock {
  readonly #table: LockTable;

  constructor(options: CacheLockOptions) {
    const { ageTimeoutMs, waitTimeoutMs } = options;
    checkTimeout('ageTimeoutMs', ageTimeoutMs);
    if (waitTimeoutMs !== undefined) checkTimeout('waitTimeoutMs', waitTimeoutMs);
    this.#table = new LockTable(ageTimeoutMs, waitTimeoutMs);
  }

  /** The age timeout this lock was created with, in milliseconds. */
  get ageTimeoutMs(): number {
    return this.#table.ageTimeoutMs;
  }

  /** The reader wait timeout, in milliseconds, if any. */
  get waitTimeoutMs(): number | undefined {
    return this.#table.waitTimeoutMs;
  }

  /** How many keys are locked right now (being fetched by a writer). */
  get size(): number {
    return this.#table.cores.size;
  }

  /**
   * Locks `hashKey` for a fetch. Returns `{ kind: 'write', permit }` when no fetch of it is under
   * way, else `{ kind: 'read', lock }` to wait on the one that is. `staleWriter` marks a fetch that
   * revalidates a stale asset rather than filling a miss; it is carried on the permit (for a
   * reader, on the permit it gets if it is elected writer).
   */
  lock(hashKey: string, staleWriter = false): Locked {
    return this.#table.lock(hashKey, staleWriter);
  }

  /** Same as `permit.unlock(reason)`. */
  release(permit: WritePermit, reason: UnlockReason): void {
    permit.unlock(reason);
  }
}

function checkTimeout(name: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${name} must be a positive number of milliseconds, got ${value}`);
  }
}
