/**
 * One eviction manager for every worker process of a server. A disk cache is shared by the
 * workers, so its size cap must be too: with a manager per worker, each would allow the whole
 * budget, and after a restart each would evict down to its own view. Here the main process owns the
 * real manager; workers send it what happens (admit, hit, remove, save) and it tells every worker
 * which keys to evict. Without workers the owner is this process and nothing crosses a boundary.
 */
import type { StorageKey } from '../storage/storage.js';
import type { EvictionManager } from './eviction.js';

/**
 * The messaging it needs: `processGroup` from `@pingora-ts/core` fits (the cache does not depend
 * on core).
 */
export interface EvictionGroup {
  readonly role: 'single' | 'main' | 'worker';
  publish(topic: string, message: unknown): void;
  subscribe(topic: string, listener: (message: unknown) => void): () => void;
}

type Op =
  | { op: 'admit'; key: StorageKey; size: number; freshUntil: number }
  | { op: 'grow'; key: StorageKey; delta: number; maxWeight?: number }
  | { op: 'access'; key: StorageKey; size: number; freshUntil: number }
  | { op: 'remove'; key: StorageKey }
  | { op: 'save'; dir: string };

/** Options of {@link SharedEvictionManager}. */
export interface SharedEvictionOptions {
  /** Names the cache in the messages; one per cache directory. Default `'disk'`. */
  name?: string;
  /** The owner loads its saved state from here when it is made (the directory the storage saves to). */
  stateDir?: string;
}

/**
 * An {@link EvictionManager} whose state lives in the main process. In a worker every call is
 * forwarded and returns no victims at once; the owner's verdicts arrive through
 * {@link SharedEvictionManager.onEvict} (a `DiskStorage` subscribes by itself). Counters
 * (`totalSize`…) are the owner's: read them in the main process.
 *
 * @example
 * ```ts
 * import { processGroup } from '@pingora-ts/core';
 * const eviction = new SharedEvictionManager(new LruEvictionManager({ maxBytes: 1 << 30 }), processGroup, {
 *   stateDir: '/var/cache/proxy/state',
 * });
 * const storage = processGroup.role === 'worker'
 *   ? await DiskStorage.open({ root: '/var/cache/proxy', eviction, ... })
 *   : undefined;
 * ```
 */
export class SharedEvictionManager implements EvictionManager {
  readonly #inner: EvictionManager;
  readonly #group: EvictionGroup;
  readonly #topic: string;
  readonly #owner: boolean;
  readonly #evictListeners = new Set<(keys: StorageKey[]) => void>();
  #ready: Promise<void> = Promise.resolve();

  constructor(inner: EvictionManager, group: EvictionGroup, options: SharedEvictionOptions = {}) {
    this.#inner = inner;
    this.#group = group;
    this.#topic = `cache-eviction:${options.name ?? 'disk'}`;
    this.#owner = group.role !== 'worker';
    if (this.#owner) {
      if (options.stateDir !== undefined) this.#ready = inner.load(options.stateDir).catch(() => {});
      group.subscribe(`${this.#topic}:op`, (m) => void this.#apply(m as Op));
    } else {
      group.subscribe(`${this.#topic}:evict`, (m) => this.#emit((m as { keys: StorageKey[] }).keys));
    }
  }

  /** Whether this process holds the real state. */
  get owner(): boolean {
    return this.#owner;
  }

  /** Called with keys the owner evicted because of another process's admission; delete their files. */
  onEvict(listener: (keys: StorageKey[]) => void): () => void {
    this.#evictListeners.add(listener);
    return () => this.#evictListeners.delete(listener);
  }

  totalSize(): number {
    return this.#inner.totalSize();
  }

  totalItems(): number {
    return this.#inner.totalItems();
  }

  evictedSize(): number {
    return this.#inner.evictedSize();
  }

  evictedItems(): number {
    return this.#inner.evictedItems();
  }

  admit(key: StorageKey, size: number, freshUntil: number): StorageKey[] {
    if (this.#owner) return this.#inner.admit(key, size, freshUntil);
    this.#send({ op: 'admit', key: plain(key), size, freshUntil });
    return [];
  }

  incrementWeight(key: StorageKey, delta: number, maxWeight?: number): StorageKey[] {
    if (this.#owner) return this.#inner.incrementWeight(key, delta, maxWeight);
    const op: Op = { op: 'grow', key: plain(key), delta };
    if (maxWeight !== undefined) op.maxWeight = maxWeight;
    this.#send(op);
    return [];
  }

  remove(key: StorageKey): void {
    if (this.#owner) this.#inner.remove(key);
    else this.#send({ op: 'remove', key: plain(key) });
  }

  access(key: StorageKey, size: number, freshUntil: number): boolean {
    if (this.#owner) return this.#inner.access(key, size, freshUntil);
    this.#send({ op: 'access', key: plain(key), size, freshUntil });
    return true;
  }

  /** In a worker, always false: the storage then re-admits what it finds, which the owner merges. */
  peek(key: StorageKey): boolean {
    return this.#owner ? this.#inner.peek(key) : false;
  }

  async save(dir: string): Promise<void> {
    if (!this.#owner) {
      this.#send({ op: 'save', dir });
      return;
    }
    await this.#ready;
    await this.#inner.save(dir);
  }

  /** In a worker, nothing: the owner loaded the state when it was made. */
  async load(dir: string): Promise<void> {
    if (this.#owner) await this.#inner.load(dir);
  }

  #send(op: Op): void {
    this.#group.publish(`${this.#topic}:op`, op);
  }

  async #apply(op: Op): Promise<void> {
    await this.#ready;
    let victims: StorageKey[] = [];
    if (op.op === 'admit') victims = this.#inner.admit(op.key, op.size, op.freshUntil);
    else if (op.op === 'grow') victims = this.#inner.incrementWeight(op.key, op.delta, op.maxWeight);
    else if (op.op === 'access') this.#inner.access(op.key, op.size, op.freshUntil);
    else if (op.op === 'remove') this.#inner.remove(op.key);
    else await this.#inner.save(op.dir).catch(() => {});
    if (victims.length === 0) return;
    const keys = victims.map(plain);
    this.#group.publish(`${this.#topic}:evict`, { keys });
    // Without workers (an owner that is also serving) the local storage deletes them too.
    this.#emit(keys);
  }

  #emit(keys: StorageKey[]): void {
    for (const listener of this.#evictListeners) listener(keys);
  }
}

function plain(key: StorageKey): StorageKey {
  return { hashKey: key.hashKey, userTag: key.userTag };
}
