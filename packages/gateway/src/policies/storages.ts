/**
 * The cache storages of a gateway, one per kind (memory, disk, Redis), made the first time a
 * route asks for that kind and shared by every route that caches there; routes keep their assets
 * apart by the route name in the cache key. Each storage comes with its lock and one predictor
 * serves them all.
 */
import { join, resolve } from 'node:path';
import {
  CacheLock,
  type CacheKeyLock,
  CacheMeta,
  DiskStorage,
  FileCacheLock,
  LruEvictionManager,
  MemoryStorage,
  Predictor,
  SharedEvictionManager,
  type Storage,
} from '@pingora-ts/cache';
import { type Logger, processGroup } from '@pingora-ts/core';
import { RedisCacheLock, RedisStorage } from '@pingora-ts/redis';
import type { CacheSection, RouteCacheConfig } from '../schema/index.js';
import type { SharedRedis } from './redis-link.js';

/** Where assets of one storage kind live and the locks of their fills. */
export interface StorageSet {
  /** Undefined until a disk storage has opened (and in a main process that never serves). */
  storage(): Storage<CacheMeta> | undefined;
  /** The lock of this storage's fills (a route with `lock: false` does without). */
  readonly lock: CacheKeyLock;
}

/** Settings of {@link CacheStores}. */
export interface CacheStoresOptions {
  readonly cache: CacheSection | undefined;
  /** Where a relative `cache.disk.path` starts. */
  readonly baseDir: string;
  readonly redis: SharedRedis;
  readonly logger: Logger;
  /** Whether this process serves requests (false in the main process of a server with workers). */
  readonly serving: boolean;
}

type Kind = RouteCacheConfig['storage'];

const MEMORY_DEFAULT = 64 * 1024 * 1024;
const DISK_DEFAULT = 1024 * 1024 * 1024;
const LOCK_TIMEOUT_DEFAULT = 5_000;

/** The storages, locks and predictor of one gateway. */
export class CacheStores {
  /** Remembers keys that came back uncacheable, so they skip the lock next time. */
  readonly predictor = new Predictor({ capacity: 16_384 });
  readonly #options: CacheStoresOptions;
  readonly #sets = new Map<Kind, StorageSet>();
  readonly #closers: (() => Promise<void> | void)[] = [];
  readonly #pending: Promise<unknown>[] = [];

  constructor(options: CacheStoresOptions) {
    this.#options = options;
  }

  /** The set for `kind`, made on first use. */
  get(kind: Kind): StorageSet {
    let set = this.#sets.get(kind);
    if (set === undefined) {
      set = kind === 'memory' ? this.#memory() : kind === 'disk' ? this.#disk() : this.#redis();
      this.#sets.set(kind, set);
    }
    return set;
  }

  /** Resolves once every storage made so far is open (a disk storage opens asynchronously). */
  async ready(): Promise<void> {
    await Promise.all(this.#pending);
  }

  /** Closes the storages and locks (a disk storage saves its eviction state). */
  async close(): Promise<void> {
    await Promise.allSettled(this.#pending);
    const closers = this.#closers.splice(0).reverse();
    for (const close of closers) {
      try {
        await close();
      } catch (e) {
        this.#options.logger.warn({ err: String(e) }, 'closing a cache storage failed');
      }
    }
  }

  #lockTimeout(): number {
    return this.#options.cache?.lock_timeout ?? LOCK_TIMEOUT_DEFAULT;
  }

  // A writer may hold a fill twice as long as readers wait for it, so a slow but live origin is
  // not taken for a dead writer by the time the first readers give up.
  #lockOptions(): { ageTimeoutMs: number; waitTimeoutMs: number } {
    const wait = Math.max(1, this.#lockTimeout());
    return { ageTimeoutMs: Math.max(1_000, 2 * wait), waitTimeoutMs: wait };
  }

  #memory(): StorageSet {
    const eviction = new LruEvictionManager({
      maxBytes: this.#options.cache?.memory?.max_size ?? MEMORY_DEFAULT,
    });
    const storage = new MemoryStorage<CacheMeta>({ eviction, freshUntil: (m) => m.freshUntil });
    const lock = new CacheLock(this.#lockOptions());
    return { storage: () => storage, lock };
  }

  #disk(): StorageSet {
    const disk = this.#options.cache?.disk;
    if (disk === undefined) throw new Error('storage: disk needs "cache.disk.path"');
    const root = resolve(this.#options.baseDir, disk.path);
    // Made in every process: the main process (or the only one) owns the size cap, workers
    // forward what they store to it, so the cap holds for the whole server.
    const eviction = new SharedEvictionManager(
      new LruEvictionManager({ maxBytes: disk.max_size ?? DISK_DEFAULT }),
      processGroup,
      { stateDir: join(root, 'state') },
    );
    const lock = new FileCacheLock({ dir: join(root, 'locks'), ...this.#lockOptions() });
    let storage: DiskStorage<CacheMeta> | undefined;
    if (this.#options.serving) {
      const opening = DiskStorage.open<CacheMeta>({
        root,
        eviction,
        serializeMeta: (meta) => meta.serialize(),
        deserializeMeta: CacheMeta.deserialize,
        freshUntil: (meta) => meta.freshUntil,
      }).then(
        (opened) => {
          storage = opened;
          this.#closers.push(() => opened.close());
        },
        (e: unknown) => {
          this.#options.logger.error(
            { err: String(e), path: root },
            'disk cache could not open: not caching',
          );
        },
      );
      this.#pending.push(opening);
    }
    return { storage: () => storage, lock };
  }

  #redis(): StorageSet {
    const link = this.#options.redis.link();
    const prefix = this.#options.redis.prefix;
    const storage = new RedisStorage(link, { prefix: `${prefix}cache:` });
    const lock = new RedisCacheLock(link, { prefix: `${prefix}lock:`, ...this.#lockOptions() });
    this.#closers.push(() => lock.close());
    return { storage: () => storage, lock };
  }
}
