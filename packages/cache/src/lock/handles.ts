/**
 * The two handles `CacheLock.lock()` hands out: the writer's permit and the readers' lock.
 */
import type { LockCore, LockTable, Waiter } from './lock-table.js';
import {
  type LockStatus,
  PLAIN_RESULTS,
  UNLOCK_REASONS,
  type UnlockReason,
  type WaitResult,
} from './status.js';

/**
 * The right, and the duty, to fetch an asset for everyone waiting on its key. Unlock it exactly once
 * when the fetch ends; `using permit = …` unlocks it with `Dangling` if the code leaves without.
 *
 * @example
 * ```ts
 * const locked = cacheLock.lock(key.combinedHex());
 * if (locked.kind === 'write') {
 *   using permit = locked.permit;
 *   try {
 *     await fetchAndStore();
 *     permit.unlock('Done');
 *   } catch (err) {
 *     permit.unlock('TransientError');
 *     throw err;
 *   }
 * }
 * ```
 */
export class WritePermit implements Disposable {
  #finished = false;

  /** @internal Created by `CacheLock.lock()` and by elections after a transient error. */
  constructor(
    private readonly table: LockTable,
    private readonly core: LockCore,
  ) {}

  /** The key this permit writes. */
  get hashKey(): string {
    return this.core.hashKey;
  }

  /** Whether this fetch revalidates an asset already in cache (a stale writer) rather than a miss. */
  get staleWriter(): boolean {
    return this.core.staleWriter;
  }

  /** The lock's status: `Waiting` while held, then how it ended (`AgeTimeout` if it expired first). */
  get status(): LockStatus {
    return this.core.status;
  }

  /** Whether `unlock` (or dispose) was already called. */
  get finished(): boolean {
    return this.#finished;
  }

  /**
   * Ends the lock and wakes its readers with `reason`. Returns false when nothing changed: already
   * unlocked, or the lock expired (`ageTimeoutMs`) before the writer came back, in which case the
   * key may already belong to a new writer, which is left alone.
   */
  unlock(reason: UnlockReason): boolean {
    if (!UNLOCK_REASONS.has(reason)) throw new TypeError(`not an unlock reason: ${String(reason)}`);
    if (this.#finished) return false;
    this.#finished = true;
    return this.table.finish(this.core, reason);
  }

  /** Unlocks with `Dangling` unless already unlocked: readers then compete for the lock again. */
  [Symbol.dispose](): void {
    if (!this.#finished) this.unlock('Dangling');
  }
}

/**
 * A place in line behind the writer of a key. `wait()` resolves when the writer is done (or fails,
 * gives up, expires) or, with `waitTimeoutMs`, when this reader has waited long enough.
 *
 * @example
 * ```ts
 * const locked = cacheLock.lock(hashKey);
 * if (locked.kind === 'read') {
 *   const result = await locked.lock.wait();
 *   if (result.status === 'TransientError') await fetchAsWriter(result.permit);
 *   else if (result.status === 'GiveUp' || result.status === 'WaitTimeout') await goUpstream();
 *   else await lookUpAgain(); // Done, Dangling, AgeTimeout
 * }
 * ```
 */
export class ReadLock {
  #result: Promise<WaitResult> | undefined;
  #waiter: Waiter | undefined;

  /** @internal Created by `CacheLock.lock()`. */
  constructor(
    private readonly table: LockTable,
    private readonly core: LockCore,
    private readonly staleWriter: boolean,
  ) {}

  /** The key being waited on. */
  get hashKey(): string {
    return this.core.hashKey;
  }

  /** Whether the lock this reader was given is still held by its writer. */
  get locked(): boolean {
    return this.core.status === 'Waiting';
  }

  /**
   * The status of the lock this reader was given (after a transient error the reader may be waiting
   * on the successor lock; this stays `TransientError`).
   */
  get status(): LockStatus {
    return this.core.status;
  }

  /**
   * Waits for the outcome. Calling it again returns the same promise, so a reader is counted, and
   * elected, once.
   */
  wait(): Promise<WaitResult> {
    this.#result ??= new Promise((resolve) => {
      this.#waiter = { core: this.core, resolve, staleWriter: this.staleWriter, timer: undefined };
      this.table.park(this.#waiter);
    });
    return this.#result;
  }

  /**
   * Stops waiting (the downstream went away, say): `wait()` resolves with `WaitTimeout` and this
   * reader can no longer be elected writer. Returns false if the wait had already ended, in which
   * case a permit it resolved with must still be unlocked.
   */
  cancel(): boolean {
    if (this.#result === undefined) {
      this.#result = Promise.resolve(PLAIN_RESULTS.WaitTimeout);
      return true;
    }
    return this.#waiter !== undefined && this.table.cancel(this.#waiter);
  }
}
