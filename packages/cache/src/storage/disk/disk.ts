/**
 * A file-system cache storage shared by every process of one machine, in the spirit of nginx's
 * `proxy_cache_path`: one file per asset under level directories, written beside its final name and
 * renamed into place, readable by other processes while it is written, bounded by an eviction manager
 * whose state is saved across restarts.
 */
import { mkdir, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { EvictionManager } from '../../eviction/eviction.js';
import type { LookupResult, MissHandler, PurgeType, Storage, StorageKey } from '../storage.js';
import { DiskHitHandler } from './disk-hit.js';
import { DiskMissHandler, type DiskMissSink } from './disk-miss.js';
import { fileName, type Levels, levelDir, PARTIAL_SUFFIX, parseLevels } from './layout.js';
import { localProgress, remoteProgress } from './progress.js';
import { closeFd } from './fd.js';
import { type OpenAsset, openAsset } from './read.js';
import { rewriteMeta } from './rewrite.js';
import { startUp } from './startup.js';

/** Options of {@link DiskStorage}. */
export interface DiskStorageOptions<M> {
  /** The cache directory (created if missing). Every process sharing the cache uses the same one. */
  root: string;
  /** Level directories by hash, nginx style (`'1:2'`, the default, or `[1, 2]`; `''` for none). */
  levels?: string | readonly number[];
  /** Decides what to evict; its byte budget (bytes of asset files) bounds the storage. */
  eviction: EvictionManager;
  /** The meta's bytes in the file (`(m) => m.serialize()` for `CacheMeta`). */
  serializeMeta: (meta: M) => Uint8Array;
  /** The meta back from its bytes (`CacheMeta.deserialize`); a throw makes the file a miss. */
  deserializeMeta: (bytes: Uint8Array) => M;
  /** Largest body accepted, in bytes; a larger one fails with `ResponseTooLarge`. Unlimited by default. */
  maxFileSize?: number;
  /** When an asset stops being fresh, in ms since the epoch (eviction, and preferring a newer fill). */
  freshUntil?: (meta: M) => number;
  /**
   * A fill whose file has not changed for this long (ms) was left by a dead writer: readers in other
   * processes give up on it and a new fill replaces it. Default 30 000.
   */
  partialStaleMs?: number;
  /** Where the eviction state is saved (default `<root>/state`). */
  stateDir?: string;
  /** Save the eviction state this often (ms; 0: only on `close`). Default 60 000. */
  saveIntervalMs?: number;
}

/**
 * A {@link Storage} on disk. Create it with {@link DiskStorage.open} (it cleans what a crash left and
 * loads the eviction state) and {@link DiskStorage.close} it on shutdown (it saves the state).
 *
 * @example
 * ```ts
 * const storage = await DiskStorage.open<CacheMeta>({
 *   root: '/var/cache/pingora',
 *   levels: '1:2',
 *   eviction: new LruEvictionManager({ maxBytes: 10 * 1024 ** 3 }),
 *   serializeMeta: (meta) => meta.serialize(),
 *   deserializeMeta: CacheMeta.deserialize,
 *   freshUntil: (meta) => meta.freshUntil,
 *   maxFileSize: 64 * 1024 * 1024,
 * });
 * // session.cache.enable(storage, undefined, predictor, new FileCacheLock({ dir: ..., ageTimeoutMs: 10_000 }));
 * process.on('SIGTERM', () => void storage.close());
 * ```
 */
export class DiskStorage<M> implements Storage<M> {
  /** The cache directory. */
  readonly root: string;
  /** Where the eviction state is saved. */
  readonly stateDir: string;
  private readonly levels: Levels;
  private readonly eviction: EvictionManager;
  private readonly serializeMeta: (meta: M) => Uint8Array;
  private readonly deserializeMeta: (bytes: Uint8Array) => M;
  private readonly maxFileSize: number;
  private readonly freshUntil: (meta: M) => number;
  private readonly staleMs: number;
  private readonly saveIntervalMs: number;
  private readonly writes = new Map<string, DiskMissHandler<M>>();
  /** Writes purged while they were being renamed into place: their file goes once it lands. */
  private readonly cancelled = new WeakSet<DiskMissHandler<M>>();
  private readonly dirs = new Set<string>();
  private readonly sink: DiskMissSink<M>;
  private saveTimer: NodeJS.Timeout | undefined;

  private constructor(options: DiskStorageOptions<M>) {
    if (typeof options.root !== 'string' || options.root === '') {
      throw new TypeError('disk cache: root must be a directory path');
    }
    this.root = options.root;
    this.levels = parseLevels(options.levels);
    this.eviction = options.eviction;
    this.serializeMeta = options.serializeMeta;
    this.deserializeMeta = options.deserializeMeta;
    this.maxFileSize = options.maxFileSize ?? Number.POSITIVE_INFINITY;
    this.freshUntil = options.freshUntil ?? (() => Number.MAX_SAFE_INTEGER);
    this.staleMs = positive('partialStaleMs', options.partialStaleMs ?? 30_000);
    this.stateDir = options.stateDir ?? join(this.root, 'state');
    this.saveIntervalMs = options.saveIntervalMs ?? 60_000;
    if (!Number.isFinite(this.saveIntervalMs) || this.saveIntervalMs < 0) {
      throw new RangeError(`disk cache: saveIntervalMs must be >= 0, got ${this.saveIntervalMs}`);
    }
    this.sink = { commit: (write) => this.commit(write), discard: (write) => this.forget(write) };
    // A manager shared by worker processes reports evictions decided for another worker's writes.
    const shared = this.eviction as { onEvict?: (listener: (keys: StorageKey[]) => void) => unknown };
    if (typeof shared.onEvict === 'function') shared.onEvict((keys) => void this.evict(keys));
  }

  /**
   * Opens the cache at `options.root`: removes temporary files of writers that are gone, loads the
   * saved eviction state, admits asset files the state does not know (evicting past the budget) and
   * forgets state entries whose file is gone.
   */
  static async open<M>(options: DiskStorageOptions<M>): Promise<DiskStorage<M>> {
    const storage = new DiskStorage(options);
    await mkdir(storage.root, { recursive: true });
    await startUp({
      root: storage.root,
      levels: storage.levels,
      stateDir: storage.stateDir,
      eviction: storage.eviction,
      staleMs: storage.staleMs,
      freshUntil: (bytes) => storage.freshUntil(storage.deserializeMeta(bytes)),
      fileOf: (key) => storage.fileOf(key),
    });
    if (storage.saveIntervalMs > 0) {
      storage.saveTimer = setInterval(() => void storage.save().catch(() => {}), storage.saveIntervalMs);
      storage.saveTimer.unref();
    }
    return storage;
  }

  /** Saves the eviction state now (also done every `saveIntervalMs` and by `close`). */
  save(): Promise<void> {
    return this.eviction.save(this.stateDir);
  }

  /** Stops the periodic save and saves the eviction state. */
  async close(): Promise<void> {
    clearInterval(this.saveTimer);
    this.saveTimer = undefined;
    await this.save();
  }

  /** Bytes of the asset files the eviction manager tracks. */
  storedSize(): number {
    return this.eviction.totalSize();
  }

  /** Assets the eviction manager tracks. */
  storedItems(): number {
    return this.eviction.totalItems();
  }

  /** The path of the asset file of `key`. */
  fileOf(key: StorageKey): string {
    const name = fileName(key.hashKey, this.levels);
    return join(levelDir(this.root, name, this.levels), name);
  }

  async lookup(key: StorageKey): Promise<LookupResult<M> | undefined> {
    const write = this.writes.get(key.hashKey);
    if (write !== undefined) {
      const local = await openAsset(write.tmp).catch(() => undefined);
      if (local !== undefined) {
        const hit = new DiskHitHandler(
          local.fd,
          local.header.bodyOffset,
          local.head,
          -1,
          localProgress(write),
        );
        return { meta: write.pendingMeta ?? write.meta, hit };
      }
    }
    const file = this.fileOf(key);
    const found = await this.read(key, file);
    if (found !== undefined) {
      const { asset, meta } = found;
      const freshUntil = this.freshUntil(meta);
      // A stale asset may be being replaced by another process: readers released from the cache
      // lock want that fill, not the asset it replaces.
      if (freshUntil <= Date.now()) {
        const partial = await this.partial(key, file);
        if (partial !== undefined) {
          if (asset.fd !== undefined) closeFd(asset.fd);
          return partial;
        }
      }
      const weight = asset.header.bodyOffset + asset.header.bodyLength;
      this.eviction.access(asset.header.key, weight, freshUntil);
      const hit = new DiskHitHandler(asset.fd, asset.header.bodyOffset, asset.head, asset.header.bodyLength);
      return { meta, hit };
    }
    // Gone: evicted or purged by another process, or never there.
    if (this.eviction.peek(key)) this.eviction.remove(key);
    return this.partial(key, file);
  }

  /**
   * Starts a write that replaces the key's asset when it finishes. A later miss handler for the same key
   * in this process supersedes this one; a purge during the write cancels its storing.
   */
  async getMissHandler(key: StorageKey, meta: M): Promise<MissHandler> {
    const file = this.fileOf(key);
    await this.ensureDir(file);
    const target = { file, maxFileSize: this.maxFileSize, staleMs: this.staleMs };
    const copy = { hashKey: key.hashKey, userTag: key.userTag };
    const metaBytes = this.serializeMeta(meta);
    let write: DiskMissHandler<M>;
    try {
      write = await DiskMissHandler.create(this.sink, copy, meta, metaBytes, target);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      // Its directory was removed behind our back (a cache wiped by hand): make it again, once.
      this.dirs.delete(dirname(file));
      await this.ensureDir(file);
      write = await DiskMissHandler.create(this.sink, copy, meta, metaBytes, target);
    }
    this.writes.set(key.hashKey, write);
    return write;
  }

  async purge(key: StorageKey, _type: PurgeType): Promise<boolean> {
    const write = this.writes.get(key.hashKey);
    if (write !== undefined) {
      this.writes.delete(key.hashKey);
      this.cancelled.add(write);
      // Other processes must not find the purged fill either; readers already on it keep reading.
      const partial = write.partial;
      write.partial = undefined;
      if (partial !== undefined) await unlink(partial).catch(() => {});
    }
    this.eviction.remove(key);
    const removed = await unlink(this.fileOf(key)).then(
      () => true,
      () => false,
    );
    return removed || write !== undefined;
  }

  async updateMeta(key: StorageKey, meta: M): Promise<boolean> {
    const write = this.writes.get(key.hashKey);
    if (write !== undefined) {
      write.meta = meta;
      write.pendingMeta = meta;
      return true;
    }
    const size = await rewriteMeta(this.fileOf(key), this.serializeMeta(meta));
    if (size === undefined) return false;
    await this.evict(this.eviction.admit(key, size, this.freshUntil(meta)));
    return true;
  }

  /** The manager this storage admits to; pass the same one to `session.cache.enable` or none. */
  get evictionManager(): EvictionManager {
    return this.eviction;
  }

  supportStreamingPartialWrite(): boolean {
    return true;
  }

  private async read(key: StorageKey, file: string): Promise<{ asset: OpenAsset; meta: M } | undefined> {
    let asset: OpenAsset | undefined;
    try {
      asset = await openAsset(file);
    } catch {
      return undefined; // corrupt or unreadable: a miss, and the next fill replaces it
    }
    if (asset === undefined) return undefined;
    try {
      if (asset.header.state !== 'done' || asset.header.key.hashKey !== key.hashKey)
        throw new Error('mismatch');
      return { asset, meta: this.deserializeMeta(asset.header.meta) };
    } catch {
      if (asset.fd !== undefined) closeFd(asset.fd);
      return undefined;
    }
  }

  /** The fill of `key` in progress in another process, if any. */
  private async partial(key: StorageKey, file: string): Promise<LookupResult<M> | undefined> {
    const path = `${file}${PARTIAL_SUFFIX}`;
    const asset = await openAsset(path).catch(() => undefined);
    if (asset === undefined) return undefined;
    let meta: M;
    try {
      if (asset.header.state === 'aborted' || asset.header.key.hashKey !== key.hashKey)
        throw new Error('mismatch');
      meta = this.deserializeMeta(asset.header.meta);
    } catch {
      if (asset.fd !== undefined) closeFd(asset.fd);
      return undefined;
    }
    const { bodyOffset, bodyLength, state } = asset.header;
    // Done but not yet renamed: a complete asset read through the link.
    const progress = state === 'writing' ? remoteProgress(this.staleMs, path) : undefined;
    return { meta, hit: new DiskHitHandler(asset.fd, bodyOffset, asset.head, bodyLength, progress) };
  }

  private async commit(write: DiskMissHandler<M>): Promise<void> {
    const hashKey = write.key.hashKey;
    const current = this.writes.get(hashKey) === write;
    const kept = await write.settle(current);
    if (this.writes.get(hashKey) === write) this.writes.delete(hashKey);
    if (!kept) return;
    if (this.cancelled.has(write)) {
      await unlink(write.target.file).catch(() => {});
      return;
    }
    let size = write.bodyOffset + write.length;
    if (write.pendingMeta !== undefined) {
      size = (await rewriteMeta(write.target.file, this.serializeMeta(write.pendingMeta))) ?? size;
    }
    await this.evict(this.eviction.admit(write.key, size, this.freshUntil(write.meta)));
  }

  private forget(write: DiskMissHandler<M>): void {
    if (this.writes.get(write.key.hashKey) === write) this.writes.delete(write.key.hashKey);
  }

  private async evict(keys: StorageKey[]): Promise<void> {
    await Promise.all(keys.map((key) => unlink(this.fileOf(key)).catch(() => {})));
  }

  private async ensureDir(file: string): Promise<void> {
    const dir = dirname(file);
    if (this.dirs.has(dir)) return;
    await mkdir(dir, { recursive: true });
    this.dirs.add(dir);
  }
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(`disk cache: ${name} must be a positive number of milliseconds, got ${value}`);
  }
  return value;
}
