/**
 * The state machine behind `CacheLock` (internal). The table holds only live locks (status
 * `Waiting`): a lock leaves the table the moment it is unlocked or expires, so a key that is no
 * longer being fetched costs nothing and the next caller for it becomes the writer.
 */
import { ReadLock, WritePermit } from './handles.js';
import { type FinalStatus, type LockStatus, PLAIN_RESULTS, type WaitResult } from './status.js';

/** A write permit for a new lock, or a read lock on the live one. */
export type Locked = { kind: 'write'; permit: WritePermit } | { kind: 'read'; lock: ReadLock };

/** A reader parked on a lock; it moves to the successor lock when its writer fails. */
export interface Waiter {
  core: LockCore;
  readonly resolve: (result: WaitResult) => void;
  readonly staleWriter: boolean;
  timer: NodeJS.Timeout | undefined;
}

/** One fetch of one key: its status, its waiting readers and the timer that expires it. */
export class LockCore {
  status: LockStatus = 'Waiting';
  /** Insertion-ordered, so the longest-waiting reader is elected first after a transient error. */
  readonly waiters = new Set<Waiter>();
  ageTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly hashKey: string,
    readonly staleWriter: boolean,
  ) {}
}

export class LockTable {
  readonly cores = new Map<string, LockCore>();

  constructor(
    readonly ageTimeoutMs: number,
    readonly waitTimeoutMs: number | undefined,
  ) {}

  lock(hashKey: string, staleWriter: boolean): Locked {
    const live = this.cores.get(hashKey);
    if (live !== undefined) return { kind: 'read', lock: new ReadLock(this, live, staleWriter) };
    return { kind: 'write', permit: this.#create(hashKey, staleWriter) };
  }

  /** Ends a live lock; false when it had already ended (unlocked, or expired before the writer came back). */
  finish(core: LockCore, status: FinalStatus): boolean {
    if (core.status !== 'Waiting') return false;
    core.status = status;
    clearTimeout(core.ageTimer);
    core.ageTimer = undefined;
    // A core sits in the table exactly while it is Waiting, so the entry for its key is its own.
    this.cores.delete(core.hashKey);
    if (core.waiters.size === 0) return true;
    const waiters = [...core.waiters];
    core.waiters.clear();
    if (status === 'TransientError') {
      for (const waiter of waiters) this.#follow(core.hashKey, waiter);
    } else {
      const result = PLAIN_RESULTS[status];
      for (const waiter of waiters) {
        clearTimeout(waiter.timer);
        waiter.resolve(result);
      }
    }
    return true;
  }

  /** Parks a reader on its lock, or answers at once when the lock has already ended. */
  park(waiter: Waiter): void {
    const status = waiter.core.status;
    if (status === 'Waiting') {
      this.#startTimer(waiter);
      waiter.core.waiters.add(waiter);
    } else if (status === 'TransientError') {
      // A reader that starts waiting after its writer failed takes part in the election late:
      // it writes if nobody has taken the key since, else it waits on whoever did.
      this.#follow(waiter.core.hashKey, waiter, true);
    } else {
      waiter.resolve(PLAIN_RESULTS[status]);
    }
  }

  /** Takes a parked reader out of line; false if it was not waiting any more. */
  cancel(waiter: Waiter): boolean {
    if (!waiter.core.waiters.delete(waiter)) return false;
    clearTimeout(waiter.timer);
    waiter.timer = undefined;
    waiter.resolve(PLAIN_RESULTS.WaitTimeout);
    return true;
  }

  #create(hashKey: string, staleWriter: boolean): WritePermit {
    const core = new LockCore(hashKey, staleWriter);
    core.ageTimer = setTimeout(onAgeTimeout, this.ageTimeoutMs, this, core);
    core.ageTimer.unref();
    this.cores.set(hashKey, core);
    return new WritePermit(this, core);
  }

  /**
   * Re-runs `lock()` for a reader whose writer failed: the first one to arrive gets the permit, the
   * others join the new lock and keep their own wait deadline.
   */
  #follow(hashKey: string, waiter: Waiter, startTimer = false): void {
    const live = this.cores.get(hashKey);
    if (live === undefined) {
      clearTimeout(waiter.timer);
      waiter.resolve({ status: 'TransientError', permit: this.#create(hashKey, waiter.staleWriter) });
      return;
    }
    waiter.core = live;
    if (startTimer) this.#startTimer(waiter);
    live.waiters.add(waiter);
  }

  #startTimer(waiter: Waiter): void {
    if (this.waitTimeoutMs === undefined) return;
    waiter.timer = setTimeout(onWaitTimeout, this.waitTimeoutMs, waiter);
    waiter.timer.unref();
  }
}

function onAgeTimeout(table: LockTable, core: LockCore): void {
  table.finish(core, 'AgeTimeout');
}

function onWaitTimeout(waiter: Waiter): void {
  waiter.timer = undefined;
  if (waiter.core.waiters.delete(waiter)) waiter.resolve(PLAIN_RESULTS.WaitTimeout);
}
