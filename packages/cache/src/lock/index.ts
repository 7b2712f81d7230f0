/** The cache lock: stampede protection for cache misses. */
export { CacheLock } from './cache-lock.js';
export type { CacheKeyLock, CacheLockOptions } from './cache-lock.js';
export { ReadLock, WritePermit } from './handles.js';
export type { Locked } from './lock-table.js';
export { LockStatus } from './status.js';
export type { UnlockReason, WaitResult } from './status.js';
