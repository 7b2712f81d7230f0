/**
 * An admission-aware eviction manager on `@pingora-ts/tinyufo` (S3-FIFO + TinyLFU): a scan of assets
 * seen once passes through the small queue without pushing out the assets that are read often.
 *
 * TinyUfo exposes neither a weightless peek nor iteration, so this manager keeps its own index of the
 * tracked entries (in last-use order) next to it: `peek`, the byte totals and `save` read the index;
 * the eviction decisions are TinyUfo's alone.
 */
import { TinyUfo } from '@pingora-ts/tinyufo';
import type { StorageKey } from '../storage/storage.js';
import { checkSize, EvictionCounters, type EvictionEntry, type EvictionManager } from './eviction.js';
import { readSnapshot, writeSnapshot } from './persist.js';

/** Options of {@link TinyUfoEvictionManager}. */
export interface TinyUfoEvictionOptions {
  /** Most bytes kept. */
  maxBytes: number;
  /** About how many assets will be cached; sizes the TinyLFU frequency sketch. */
  estimatedItems: number;
  /** Hash seed of the sketch; fix it for reproducible evictions (random by default). */
  seed?: number;
}

const KIND = 'tinyufo';
// TinyUfo weights are integers in [1, 2^32-1]; an empty body still occupies a slot.
const MAX_WEIGHT = 0xffff_ffff;

/**
 * TinyUFO eviction by bytes: new assets go through a small FIFO and are admitted to the main queue
 * only if read again; when one must make room, TinyLFU refuses a newcomer less popular than its victim
 * (the refused newcomer is then among the keys returned for eviction).
 *
 * @example
 * ```ts
 * const ufo = new TinyUfoEvictionManager({ maxBytes: 256 * 1024 * 1024, estimatedItems: 100_000 });
 * for (const key of ufo.admit(key, body.byteLength, freshUntil)) await storage.purge(key, 'Eviction');
 * ufo.access(key, body.byteLength, freshUntil); // on every hit
 * ```
 */
export class TinyUfoEvictionManager extends EvictionCounters implements EvictionManager {
  private readonly options: TinyUfoEvictionOptions;
  private ufo: TinyUfo<string, EvictionEntry>;
  private index = new Map<string, EvictionEntry>();
  // Victims of a put made by `access`, which cannot return them: handed out by the next admit.
  private pending: StorageKey[] = [];

  constructor(options: TinyUfoEvictionOptions) {
    super();
    checkSize('maxBytes', options.maxBytes);
    checkSize('estimatedItems', options.estimatedItems);
    this.options = { ...options };
    this.ufo = this.makeUfo();
  }

  totalItems(): number {
    return this.index.size;
  }

  admit(key: StorageKey, size: number, freshUntil: number): StorageKey[] {
    checkSize('size', size);
    this.put(key, size, freshUntil, false);
    return this.takePending();
  }

  incrementWeight(key: StorageKey, delta: number, maxWeight?: number): StorageKey[] {
    checkSize('delta', delta);
    const entry = this.index.get(key.hashKey);
    if (entry === undefined) return this.takePending();
    const size = maxWeight === undefined ? entry.size + delta : Math.min(entry.size + delta, maxWeight);
    // Already admitted: growing must not get it refused, hence the forced put.
    if (size > entry.size) this.put(entry.key, size, entry.freshUntil, true);
    return this.takePending();
  }

  remove(key: StorageKey): void {
    const entry = this.index.get(key.hashKey);
    if (entry === undefined) return;
    this.index.delete(key.hashKey);
    this.used -= entry.size;
    this.ufo.remove(key.hashKey);
  }

  access(key: StorageKey, size: number, freshUntil: number): boolean {
    const entry = this.index.get(key.hashKey);
    if (entry !== undefined) {
      this.ufo.get(key.hashKey);
      this.index.delete(key.hashKey);
      this.index.set(key.hashKey, entry);
      return true;
    }
    checkSize('size', size);
    this.put(key, size, freshUntil, false);
    return false;
  }

  peek(key: StorageKey): boolean {
    return this.index.has(key.hashKey);
  }

  /**
   * Saves the tracked assets in last-use order. TinyUfo's queue placement and frequency sketch are
   * not readable, so a reload rebuilds membership and sizes, not the learned popularity.
   */
  save(dir: string): Promise<void> {
    return writeSnapshot(dir, KIND, this.index.values());
  }

  async load(dir: string): Promise<void> {
    this.ufo = this.makeUfo();
    this.index = new Map();
    this.pending = [];
    this.used = 0;
    const entries = await readSnapshot(dir, KIND);
    for (const e of entries) this.put(e.key, e.size, e.freshUntil, true);
    // Nothing stored can correspond to a victim of the reload itself.
    this.pending = [];
  }

  private makeUfo(): TinyUfo<string, EvictionEntry> {
    const { maxBytes, estimatedItems, seed } = this.options;
    return new TinyUfo<string, EvictionEntry>(Math.max(1, maxBytes), Math.max(1, estimatedItems), { seed });
  }

  private put(key: StorageKey, size: number, freshUntil: number, force: boolean): void {
    const old = this.index.get(key.hashKey);
    if (old !== undefined) {
      this.index.delete(key.hashKey);
      this.used -= old.size;
    }
    const entry: EvictionEntry = { key: { hashKey: key.hashKey, userTag: key.userTag }, size, freshUntil };
    this.index.set(key.hashKey, entry);
    this.used += size;
    const weight = Math.min(Math.max(size, 1), MAX_WEIGHT);
    const victims = force
      ? this.ufo.forcePut(key.hashKey, entry, weight)
      : this.ufo.put(key.hashKey, entry, weight);
    for (const v of victims) {
      // Only the live version of a key is accounted; a stale value carries no bytes any more.
      if (this.index.get(v.key) !== v.data) continue;
      this.index.delete(v.key);
      this.used -= v.data.size;
      this.evictedBytes += v.data.size;
      this.evictedCount++;
      this.pending.push(v.data.key);
    }
  }

  private takePending(): StorageKey[] {
    if (this.pending.length === 0) return [];
    // A victim admitted again since it was evicted is live: evicting it now would drop the new copy.
    const out = this.pending.filter((key) => !this.index.has(key.hashKey));
    this.pending = [];
    return out;
  }
}
