/**
 * The cache lock as one request holds it (internal): the write permit or read lock it was given,
 * the wait behind another writer, and how a reason to stop caching becomes an unlock status.
 */
import type { CacheKeyLock } from '../lock/cache-lock.js';
import type { ReadLock, WritePermit } from '../lock/handles.js';
import type { Locked } from '../lock/lock-table.js';
import type { UnlockReason, WaitResult } from '../lock/status.js';
import type { NoCacheReason } from '../no-cache-reason.js';

/**
 * How a writer that stops caching for `reason` ends its lock. Failures that say nothing about the
 * asset let one waiting reader try (`TransientError`); an asset that will not be stored sends every
 * reader upstream on its own (`GiveUp`), as do custom reasons, which usually mean "not cacheable".
 */
export function unlockReasonFor(reason: NoCacheReason): UnlockReason {
  if (typeof reason !== 'string') return 'GiveUp';
  switch (reason) {
    case 'OriginNotCache':
    case 'ResponseTooLarge':
    case 'PredictedResponseTooLarge':
      return 'GiveUp';
    // InternalError, StorageError, Deferred, UpstreamError, DeclinedToUpstream, and the reader-only
    // reasons (CacheLockGiveUp, CacheLockTimeout, NeverEnabled), which a writer should never give:
    // letting another request try is the safe answer to a reason that makes no sense here.
    default:
      return 'TransientError';
  }
}

/** One request's hold on a {@link CacheKeyLock}. */
export class LockCtx {
  #held: Locked | undefined = undefined;
  #waiting: ReadLock | undefined = undefined;

  constructor(
    readonly lock: CacheKeyLock,
    readonly waitTimeoutMs: number | undefined,
  ) {}

  /** Holding a read lock not yet waited on. */
  get isReader(): boolean {
    return this.#held?.kind === 'read';
  }

  /** Holding a write permit. */
  get isWriter(): boolean {
    return this.#held?.kind === 'write';
  }

  /** Holding anything, or waiting. */
  get busy(): boolean {
    return this.#held !== undefined || this.#waiting !== undefined;
  }

  /**
   * Locks `hashKey`. A permit already held for the same key is kept: a reader elected writer after
   * a transient error comes back here on its next lookup and must not queue behind itself.
   */
  acquire(hashKey: string, staleWriter: boolean): void {
    const held = this.#held;
    if (held?.kind === 'write') {
      if (held.permit.hashKey === hashKey) return;
      this.lock.release(held.permit, 'TransientError');
    } else if (held?.kind === 'read') {
      held.lock.cancel();
    }
    this.#held = this.lock.lock(hashKey, staleWriter);
  }

  /**
   * Waits on the held read lock, for at most what is left of `waitTimeoutMs` after `spentMs`.
   * The read lock is consumed; a `TransientError` result carries the permit this reader now owns.
   */
  async wait(spentMs: number): Promise<WaitResult> {
    const held = this.#held;
    if (held?.kind !== 'read') throw new Error('HttpCache: cacheLockWait() needs a read lock');
    this.#held = undefined;
    const reader = held.lock;
    this.#waiting = reader;
    const result = reader.wait();
    let timer: NodeJS.Timeout | undefined;
    if (this.waitTimeoutMs !== undefined) {
      timer = setTimeout(() => reader.cancel(), Math.max(0, this.waitTimeoutMs - spentMs));
    }
    try {
      return await result;
    } finally {
      clearTimeout(timer);
      this.#waiting = undefined;
    }
  }

  /** Stops a wait in progress, or drops a read lock not yet waited on. */
  cancelWait(): boolean {
    if (this.#waiting !== undefined) return this.#waiting.cancel();
    const held = this.#held;
    if (held?.kind !== 'read') return false;
    this.#held = undefined;
    held.lock.cancel();
    return true;
  }

  /** Ends a held write permit with `reason`; false when none was held. */
  release(reason: UnlockReason): boolean {
    const held = this.#held;
    if (held?.kind !== 'write') return false;
    this.#held = undefined;
    this.lock.release(held.permit, reason);
    return true;
  }

  /** Gives up whatever is held: a permit ends with `reason`, a read lock or a wait is cancelled. */
  drop(reason: UnlockReason): void {
    if (!this.release(reason)) this.cancelWait();
  }

  /** Hands the held write permit over (to a background refresh, say). */
  take(): WritePermit {
    const held = this.#held;
    if (held?.kind !== 'write') throw new Error('HttpCache: takeWriteLock() without a write lock');
    this.#held = undefined;
    return held.permit;
  }

  /** Holds `permit` as this request's write lock. */
  set(permit: WritePermit): void {
    this.drop('TransientError');
    this.#held = { kind: 'write', permit };
  }
}
