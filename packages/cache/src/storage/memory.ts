/**
 * An in-memory cache storage bounded by bytes: finished assets live in a `Map`, an eviction manager
 * decides which ones leave, and an asset still being written is readable while it streams in.
 */
import type { EvictionManager } from '../eviction/eviction.js';
import type { BodyBuffer } from './body.js';
import { MemoryHitHandler } from './memory-hit.js';
import { MemoryMissHandler, type MissSink } from './memory-miss.js';
import type { LookupResult, MissHandler, PurgeType, Storage, StorageKey } from './storage.js';

/** Options of {@link MemoryStorage}. */
export interface MemoryStorageOptions<M> {
  /** Decides what to evict; its byte budget bounds the storage. */
  eviction: EvictionManager;
  /** Largest body accepted, in bytes; a larger one fails with `ResponseTooLarge`. Unlimited by default. */
  maxFileSize?: number;
  /** Estimated bytes a meta occupies in memory (default {@link DEFAULT_META_SIZE}). */
  metaSize?: (meta: M) => number;
  /** When an asset stops being fresh, in ms since the epoch, for the eviction manager. */
  freshUntil?: (meta: M) => number;
}

/**
 * Bytes charged per meta when no `metaSize` is given: a response header with a dozen fields and the
 * freshness fields, as V8 keeps them.
 */
export const DEFAULT_META_SIZE = 1024;

interface Asset<M> {
  key: StorageKey;
  meta: M;
  body: BodyBuffer;
  weight: number;
}

/**
 * Pingora's `MemCache` bounded by an {@link EvictionManager}: what the manager evicts is dropped, and
 * readers keep the bytes they were reading (a purge or replacement never cuts a read short).
 *
 * @example
 * ```ts
 * const storage = new MemoryStorage<{ status: number; expires: number }>({
 *   eviction: new LruEvictionManager({ maxBytes: 128 * 1024 * 1024 }),
 *   maxFileSize: 8 * 1024 * 1024,
 *   freshUntil: (meta) => meta.expires,
 * });
 * const key = { hashKey: 'e3b0c442…', userTag: '' };
 * const miss = await storage.getMissHandler(key, { status: 200, expires: Date.now() + 60_000 });
 * await miss.writeBody(body, true);
 * await miss.finish();
 * const found = await storage.lookup(key); // { meta, hit }
 * ```
 */
export class MemoryStorage<M> implements Storage<M> {
  private readonly eviction: EvictionManager;
  private readonly maxFileSize: number;
  private readonly metaSize: (meta: M) => number;
  private readonly freshUntil: (meta: M) => number;
  private readonly assets = new Map<string, Asset<M>>();
  private readonly writes = new Map<string, MemoryMissHandler<M>>();
  private storedBytes = 0;
  private inflightBytes = 0;
  private readonly sink: MissSink<M>;

  constructor(options: MemoryStorageOptions<M>) {
    this.eviction = options.eviction;
    this.maxFileSize = options.maxFileSize ?? Number.POSITIVE_INFINITY;
    this.metaSize = options.metaSize ?? (() => DEFAULT_META_SIZE);
    this.freshUntil = options.freshUntil ?? (() => Number.MAX_SAFE_INTEGER);
    this.sink = {
      inflight: (delta) => {
        this.inflightBytes += delta;
      },
      commit: (write) => this.commit(write),
      discard: (write) => {
        if (this.writes.get(write.key.hashKey) === write) this.writes.delete(write.key.hashKey);
      },
    };
  }

  /** Bytes held by finished assets (bodies and meta estimates); equals the manager's total when in sync. */
  storedSize(): number {
    return this.storedBytes;
  }

  /** Bytes of bodies still being written. */
  inflightSize(): number {
    return this.inflightBytes;
  }

  /** Finished assets held. */
  storedItems(): number {
    return this.assets.size;
  }

  async lookup(key: StorageKey): Promise<LookupResult<M> | undefined> {
    // A write in progress is the newest version: readers released from the cache lock stream it
    // instead of finding the stale asset it replaces.
    const write = this.writes.get(key.hashKey);
    if (write !== undefined) return { meta: write.meta, hit: new MemoryHitHandler(write.body) };
    const asset = this.assets.get(key.hashKey);
    if (asset !== undefined) {
      this.eviction.access(asset.key, asset.weight, this.freshUntil(asset.meta));
      return { meta: asset.meta, hit: new MemoryHitHandler(asset.body) };
    }
    return undefined;
  }

  /**
   * Starts a write that replaces the key's asset when it finishes. A later miss handler for the same key
   * supersedes this one: only the key's latest write is stored, and a purge during a write cancels its
   * storing (its partial readers still get the whole body).
   */
  async getMissHandler(key: StorageKey, meta: M): Promise<MissHandler> {
    const write = new MemoryMissHandler<M>(this.sink, copyKey(key), meta, this.maxFileSize);
    this.writes.set(key.hashKey, write);
    return write;
  }

  async purge(key: StorageKey, _type: PurgeType): Promise<boolean> {
    const write = this.writes.get(key.hashKey);
    if (write !== undefined) this.writes.delete(key.hashKey);
    const removed = this.drop(key.hashKey);
    this.eviction.remove(key);
    return removed || write !== undefined;
  }

  async updateMeta(key: StorageKey, meta: M): Promise<boolean> {
    const asset = this.assets.get(key.hashKey);
    if (asset !== undefined) {
      const weight = asset.body.length + this.metaSize(meta);
      this.storedBytes += weight - asset.weight;
      // A new object, so a reader holding the previous lookup's meta keeps it unchanged.
      this.assets.set(key.hashKey, { ...asset, meta, weight });
      this.evict(this.eviction.admit(asset.key, weight, this.freshUntil(meta)));
      return true;
    }
    const write = this.writes.get(key.hashKey);
    if (write === undefined) return false;
    write.meta = meta;
    return true;
  }

  /** The manager this storage admits to; pass the same one to `session.cache.enable` or none. */
  get evictionManager(): EvictionManager {
    return this.eviction;
  }

  supportStreamingPartialWrite(): boolean {
    return true;
  }

  private commit(write: MemoryMissHandler<M>): void {
    const hashKey = write.key.hashKey;
    this.inflightBytes -= write.body.length;
    if (this.writes.get(hashKey) !== write) return;
    this.writes.delete(hashKey);
    this.drop(hashKey);
    const weight = write.body.length + this.metaSize(write.meta);
    this.assets.set(hashKey, { key: write.key, meta: write.meta, body: write.body, weight });
    this.storedBytes += weight;
    this.evict(this.eviction.admit(write.key, weight, this.freshUntil(write.meta)));
  }

  private evict(keys: StorageKey[]): void {
    for (const key of keys) this.drop(key.hashKey);
  }

  private drop(hashKey: string): boolean {
    const asset = this.assets.get(hashKey);
    if (asset === undefined) return false;
    this.assets.delete(hashKey);
    this.storedBytes -= asset.weight;
    return true;
  }
}

function copyKey(key: StorageKey): StorageKey {
  return { hashKey: key.hashKey, userTag: key.userTag };
}
