/**
 * A weighted LRU eviction manager on one `Map`: a `Map` iterates in insertion order, so re-inserting a
 * key on access moves it to the most-recent end and the first key is always the least recent. Every
 * operation is O(1) (plus O(evicted)).
 */
import { checkSize, EvictionCounters, type EvictionEntry, type EvictionManager } from './eviction.js';
import { readSnapshot, writeSnapshot } from './persist.js';
import type { StorageKey } from '../storage/storage.js';

/** Options of {@link LruEvictionManager}. */
export interface LruEvictionOptions {
  /** Most bytes kept; admitting past it evicts the least recently used assets. */
  maxBytes: number;
  /** Most assets kept, whatever their size (Pingora's items watermark). Unbounded by default. */
  maxItems?: number;
}

const KIND = 'lru';

/**
 * Least-recently-used eviction by bytes and, optionally, item count (Pingora's `simple_lru`).
 *
 * @example
 * ```ts
 * const lru = new LruEvictionManager({ maxBytes: 64 * 1024 * 1024 });
 * const evicted = lru.admit({ hashKey: 'ab12…', userTag: '' }, 4096, Date.now() + 60_000);
 * for (const key of evicted) await storage.purge(key, 'Eviction');
 * await lru.save('/var/cache/pingora'); // keep the order across a restart
 * ```
 */
export class LruEvictionManager extends EvictionCounters implements EvictionManager {
  private readonly maxBytes: number;
  private readonly maxItems: number;
  private entries = new Map<string, EvictionEntry>();

  constructor(options: LruEvictionOptions) {
    super();
    checkSize('maxBytes', options.maxBytes);
    if (options.maxItems !== undefined) checkSize('maxItems', options.maxItems);
    this.maxBytes = options.maxBytes;
    this.maxItems = options.maxItems ?? Number.POSITIVE_INFINITY;
  }

  totalItems(): number {
    return this.entries.size;
  }

  admit(key: StorageKey, size: number, freshUntil: number): StorageKey[] {
    checkSize('size', size);
    this.insert(key, size, freshUntil);
    return this.evict();
  }

  incrementWeight(key: StorageKey, delta: number, maxWeight?: number): StorageKey[] {
    checkSize('delta', delta);
    const entry = this.entries.get(key.hashKey);
    if (entry === undefined) return [];
    const size = maxWeight === undefined ? entry.size + delta : Math.min(entry.size + delta, maxWeight);
    if (size > entry.size) {
      this.used += size - entry.size;
      entry.size = size;
    }
    return this.evict();
  }

  remove(key: StorageKey): void {
    const entry = this.entries.get(key.hashKey);
    if (entry === undefined) return;
    this.entries.delete(key.hashKey);
    this.used -= entry.size;
  }

  access(key: StorageKey, size: number, freshUntil: number): boolean {
    const entry = this.entries.get(key.hashKey);
    if (entry !== undefined) {
      this.entries.delete(key.hashKey);
      this.entries.set(key.hashKey, entry);
      return true;
    }
    // Tracked again, but evicting waits for the next admit: access has no way to report victims.
    checkSize('size', size);
    this.insert(key, size, freshUntil);
    return false;
  }

  peek(key: StorageKey): boolean {
    return this.entries.has(key.hashKey);
  }

  save(dir: string): Promise<void> {
    return writeSnapshot(dir, KIND, this.entries.values());
  }

  async load(dir: string): Promise<void> {
    this.clear();
    const entries = await readSnapshot(dir, KIND);
    for (const e of entries) this.insert(e.key, e.size, e.freshUntil);
    // A budget smaller than the saved one keeps the most recent assets.
    this.evict();
  }

  private insert(key: StorageKey, size: number, freshUntil: number): void {
    const old = this.entries.get(key.hashKey);
    if (old !== undefined) {
      this.entries.delete(key.hashKey);
      this.used -= old.size;
    }
    this.entries.set(key.hashKey, { key: { hashKey: key.hashKey, userTag: key.userTag }, size, freshUntil });
    this.used += size;
  }

  private evict(): StorageKey[] {
    const out: StorageKey[] = [];
    while (this.used > this.maxBytes || this.entries.size > this.maxItems) {
      const first = this.entries.values().next();
      if (first.done) break;
      const entry = first.value;
      this.entries.delete(entry.key.hashKey);
      this.used -= entry.size;
      this.evictedBytes += entry.size;
      this.evictedCount++;
      out.push(entry.key);
    }
    return out;
  }

  private clear(): void {
    this.entries = new Map();
    this.used = 0;
  }
}
