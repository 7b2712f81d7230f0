/**
 * The states a cache lock goes through and what a waiting reader learns when it ends (Pingora's
 * `LockStatus`). A lock starts `Waiting`; its writer ends it with an {@link UnlockReason}, or it
 * expires (`AgeTimeout`); a reader may also stop waiting on its own (`WaitTimeout`).
 */
import type { WritePermit } from './handles.js';

/** Lock statuses, by name. Compare with the string values directly or through this object. */
export const LockStatus = {
  /** The writer is still fetching the asset. */
  Waiting: 'Waiting',
  /** The writer finished: readers look the asset up again. */
  Done: 'Done',
  /** The writer failed (network error and such): one waiting reader becomes the new writer. */
  TransientError: 'TransientError',
  /** The writer found no lock is needed (e.g. uncacheable): readers go upstream on their own. */
  GiveUp: 'GiveUp',
  /** The write permit was disposed of without an unlock: readers compete for the lock again. */
  Dangling: 'Dangling',
  /** This reader waited longer than the lock's `waitTimeoutMs` and stopped waiting. */
  WaitTimeout: 'WaitTimeout',
  /** The writer held the lock longer than `ageTimeoutMs`: the lock expired, the next caller writes. */
  AgeTimeout: 'AgeTimeout',
} as const;

/** One of the {@link LockStatus} values. */
export type LockStatus = (typeof LockStatus)[keyof typeof LockStatus];

/** The statuses a writer may end its lock with. */
export type UnlockReason = 'Done' | 'TransientError' | 'GiveUp' | 'Dangling';

/** The statuses a lock can end in. */
export type FinalStatus = UnlockReason | 'AgeTimeout';

/**
 * What `ReadLock.wait()` resolves with. `TransientError` is the one outcome that carries a permit:
 * this reader was elected the new writer and must fetch, then unlock, as any writer does.
 */
export type WaitResult =
  | { readonly status: 'Done' | 'GiveUp' | 'Dangling' | 'WaitTimeout' | 'AgeTimeout' }
  | { readonly status: 'TransientError'; readonly permit: WritePermit };

/** The reasons `unlock()` accepts, checked at run time for callers outside TypeScript. */
export const UNLOCK_REASONS: ReadonlySet<string> = new Set<UnlockReason>([
  'Done',
  'TransientError',
  'GiveUp',
  'Dangling',
]);

type PlainStatus = Exclude<WaitResult['status'], 'TransientError'>;

/**
 * Shared frozen results: a stampede of readers woken at once allocates nothing per reader for the
 * outcomes that carry no permit.
 */
export const PLAIN_RESULTS: Readonly<Record<PlainStatus, WaitResult>> = {
  Done: Object.freeze({ status: 'Done' }),
  GiveUp: Object.freeze({ status: 'GiveUp' }),
  Dangling: Object.freeze({ status: 'Dangling' }),
  WaitTimeout: Object.freeze({ status: 'WaitTimeout' }),
  AgeTimeout: Object.freeze({ status: 'AgeTimeout' }),
};
