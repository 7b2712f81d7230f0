/**
 * The eviction contract (Pingora's `EvictionManager`): a storage reports what it admits and serves, and
 * the manager answers with the assets to drop so the total stays within its budget.
 */
import type { StorageKey } from '../storage/storage.js';

/** One tracked asset: its key, its size in bytes and when it stops being fresh (ms since the epoch). */
export interface EvictionEntry {
  key: StorageKey;
  size: number;
  freshUntil: number;
}

/**
 * Tracks cached assets by size and decides which ones to evict. Keys are compared by `hashKey`.
 * Every method returning keys has already deducted their sizes: the caller must remove those assets
 * from its storage.
 *
 * @example
 * ```ts
 * async function admitted(manager: EvictionManager, storage: Storage<unknown>, key: StorageKey, size: number) {
 *   for (const victim of manager.admit(key, size, Date.now() + 60_000)) await storage.purge(victim, 'Eviction');
 * }
 * ```
 */
export interface EvictionManager {
  /** Bytes currently tracked. */
  totalSize(): number;
  /** Assets currently tracked. */
  totalItems(): number;
  /** Bytes evicted so far (a counter, never decreases). */
  evictedSize(): number;
  /** Assets evicted so far (a counter, never decreases). */
  evictedItems(): number;
  /**
   * Track `key` with `size` bytes (replacing its size and freshness if already tracked) and return the
   * keys to evict, which may include `key` itself when it does not fit or is refused.
   */
  admit(key: StorageKey, size: number, freshUntil: number): StorageKey[];
  /**
   * Grow a tracked asset by `delta` bytes, never past `maxWeight` when given; untracked keys are
   * ignored. Returns the keys to evict.
   */
  incrementWeight(key: StorageKey, delta: number, maxWeight?: number): StorageKey[];
  /** Stop tracking `key` (its size is deducted; it does not count as evicted). */
  remove(key: StorageKey): void;
  /**
   * Record a hit on `key`. Returns whether it was tracked; an untracked key is tracked from now on
   * (an asset the storage has but the manager lost, e.g. after a restart).
   */
  access(key: StorageKey, size: number, freshUntil: number): boolean;
  /** Whether `key` is tracked, without counting a hit. */
  peek(key: StorageKey): boolean;
  /** Persist the tracked assets and their eviction order under directory `dir`. */
  save(dir: string): Promise<void>;
  /**
   * Restore what {@link EvictionManager.save} wrote under `dir`, replacing the current state. A
   * missing, corrupt or foreign file rejects with a `PingoraError` and leaves the manager empty.
   */
  load(dir: string): Promise<void>;
}

/**
 * The byte and item counters every manager keeps, and their accessors (one definition for both
 * managers). Subclasses update `used`, `evictedBytes` and `evictedCount` as they admit and evict.
 */
export abstract class EvictionCounters {
  protected used = 0;
  protected evictedBytes = 0;
  protected evictedCount = 0;

  /** Bytes tracked now. */
  totalSize(): number {
    return this.used;
  }

  /** Assets tracked now. */
  abstract totalItems(): number;

  /** Bytes evicted so far. */
  evictedSize(): number {
    return this.evictedBytes;
  }

  /** Assets evicted so far. */
  evictedItems(): number {
    return this.evictedCount;
  }
}

/** Checks a byte count handed to a manager. */
export function checkSize(what: string, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`eviction: ${what} must be a non-negative integer, got ${n}`);
  }
}
