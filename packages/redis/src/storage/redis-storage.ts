/**
 * `RedisStorage`: the cache `Storage` shared by every pingora-ts instance that talks to one Redis.
 * A fill by one instance is a hit on all of them, readable on the others while it is written.
 * While Redis is unreachable lookups are misses and writes are dropped: the proxy keeps serving
 * from the origin, uncached.
 */
import { randomBytes } from 'node:crypto';
import {
  CacheMeta,
  type LookupResult,
  type MissHandler,
  type PurgeType,
  type Storage,
  type StorageKey,
} from '@pingora-ts/cache';
import type { RedisClient } from '../client.js';
import { isUnavailable, RedisLink, type RedisLinkOptions } from '../link.js';
import { RedisHitHandler } from './redis-hit.js';
import { RedisMissHandler } from './redis-miss.js';
import { BEGIN, LOOKUP, PURGE, UPDATE_META } from './scripts.js';

/** Options of {@link RedisStorage}. */
export interface RedisStorageOptions extends RedisLinkOptions {
  /** Prefix of every key (default `pingora:cache:`); give each cache its own. */
  readonly prefix?: string;
  /** Body chunk size in bytes, one Redis field each (default 64 KiB). */
  readonly chunkSize?: number;
  /** Largest body stored, in bytes; a larger one fails with `ResponseTooLarge` (default 64 MiB). */
  readonly maxFileSize?: number;
  /**
   * How long a write may go without new data before its readers give up and its partial
   * version expires, in ms (default 10 000): what a writer that died costs its readers at most.
   */
  readonly writeTimeoutMs?: number;
  /** How long a replaced or purged version stays readable for reads under way, in ms (default 30 000). */
  readonly graceMs?: number;
  /**
   * How long Redis keeps an asset, in ms, from its meta. Default: until the end of its freshness
   * plus the longer of its stale-while-revalidate and stale-if-error windows.
   */
  readonly ttlMs?: (meta: CacheMeta, nowMs: number) => number;
}

const DEFAULT_CHUNK = 64 * 1024;

/** Keeps an asset while it can be served fresh or stale. */
export function defaultTtlMs(meta: CacheMeta, nowMs: number): number {
  const staleSec = Math.max(meta.staleWhileRevalidateSec, meta.staleIfErrorSec);
  return meta.freshUntil + staleSec * 1000 - nowMs;
}

/**
 * A cache {@link Storage} in Redis: metas and chunked bodies with Redis expiry from the meta, atomic
 * commits, streaming of fills in progress across instances, and purge. It keeps no eviction manager:
 * Redis's own `maxmemory-policy` (`volatile-lru`) decides what leaves.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { RedisLink, RedisStorage, RedisCacheLock } from '@pingora-ts/redis';
 *
 * const link = new RedisLink(new Redis({ enableOfflineQueue: false, maxRetriesPerRequest: 0 }), { logger });
 * const storage = new RedisStorage(link, { prefix: 'edge:cache:' });
 * const lock = new RedisCacheLock(link, { ageTimeoutMs: 10_000, waitTimeoutMs: 5_000 });
 * // in ProxyHttp.requestCacheFilter:
 * session.cache.enable(storage, undefined, undefined, lock);
 * ```
 */
export class RedisStorage implements Storage<CacheMeta> {
  /** The link this storage calls Redis through. */
  readonly link: RedisLink;
  private readonly prefix: string;
  private readonly chunkSize: number;
  private readonly maxFileSize: number;
  private readonly writeTimeoutMs: number;
  private readonly graceMs: number;
  private readonly ttlMs: (meta: CacheMeta, nowMs: number) => number;
  private readonly lookupScript: (...args: (string | number | Buffer)[]) => Promise<unknown>;
  private readonly beginScript: (...args: (string | number | Buffer)[]) => Promise<unknown>;
  private readonly purgeScript: (...args: (string | number | Buffer)[]) => Promise<unknown>;
  private readonly updateScript: (...args: (string | number | Buffer)[]) => Promise<unknown>;

  constructor(client: RedisClient | RedisLink, options: RedisStorageOptions = {}) {
    this.link = RedisLink.of(client, options);
    this.prefix = options.prefix ?? 'pingora:cache:';
    this.chunkSize = int('chunkSize', options.chunkSize ?? DEFAULT_CHUNK, 1);
    this.maxFileSize = int('maxFileSize', options.maxFileSize ?? 64 * 1024 * 1024, 0);
    this.writeTimeoutMs = int('writeTimeoutMs', options.writeTimeoutMs ?? 10_000, 1);
    this.graceMs = int('graceMs', options.graceMs ?? 30_000, 1);
    this.ttlMs = options.ttlMs ?? defaultTtlMs;
    this.lookupScript = this.link.script('pingoraTsCacheLookup', LOOKUP, true);
    this.beginScript = this.link.script('pingoraTsCacheBegin', BEGIN);
    this.purgeScript = this.link.script('pingoraTsCachePurge', PURGE);
    this.updateScript = this.link.script('pingoraTsCacheUpdateMeta', UPDATE_META);
  }

  async lookup(key: StorageKey): Promise<LookupResult<CacheMeta> | undefined> {
    const k = this.keys(key);
    let reply: unknown;
    try {
      reply = await this.lookupScript(k.commit, k.write, k.versionPrefix);
    } catch (e) {
      if (isUnavailable(e)) return undefined;
      throw e;
    }
    if (!Array.isArray(reply)) return undefined;
    const [id, meta, st, , len, cs, c0] = reply as Buffer[];
    const info = {
      key: k.versionPrefix + String(id),
      chunkSize: Number(String(cs)),
      length: Number(String(len)),
      done: String(st) === 'd',
      first: c0 !== undefined && c0.byteLength > 0 ? c0 : undefined,
    };
    let decoded: CacheMeta;
    try {
      decoded = CacheMeta.deserialize(meta!);
    } catch {
      // Written by another meta version (an instance mid-upgrade): a miss, then overwritten.
      return undefined;
    }
    return { meta: decoded, hit: new RedisHitHandler(this.link, info) };
  }

  /**
   * Starts a new version of the asset; it replaces the committed one when it finishes, unless a
   * later write or a purge came first. While Redis is unreachable the handler drops the body.
   */
  async getMissHandler(key: StorageKey, meta: CacheMeta): Promise<MissHandler> {
    const k = this.keys(key);
    const id = randomBytes(8).toString('hex');
    const versionKey = k.versionPrefix + id;
    try {
      await this.beginScript(versionKey, k.write, id, meta.serialize(), this.writeTimeoutMs, this.chunkSize);
    } catch (e) {
      if (isUnavailable(e)) return new DroppedWrite();
      throw e;
    }
    return new RedisMissHandler(this.link, {
      id,
      versionKey,
      writeKey: k.write,
      commitKey: k.commit,
      versionPrefix: k.versionPrefix,
      chunkSize: this.chunkSize,
      maxFileSize: this.maxFileSize,
      writeTimeoutMs: this.writeTimeoutMs,
      graceMs: this.graceMs,
      ttlMs: () => this.ttlMs(meta, Date.now()),
    });
  }

  async purge(key: StorageKey, _type: PurgeType): Promise<boolean> {
    const k = this.keys(key);
    return Number(await this.purgeScript(k.commit, k.write, k.versionPrefix, this.graceMs)) > 0;
  }

  async updateMeta(key: StorageKey, meta: CacheMeta): Promise<boolean> {
    const k = this.keys(key);
    const ttl = Math.max(1, Math.ceil(this.ttlMs(meta, Date.now())));
    return Number(await this.updateScript(k.commit, k.write, k.versionPrefix, meta.serialize(), ttl)) === 1;
  }

  supportStreamingPartialWrite(): boolean {
    return true;
  }

  private keys(key: StorageKey): { commit: string; write: string; versionPrefix: string } {
    const base = `${this.prefix}{${key.hashKey}}:`;
    return { commit: `${base}k`, write: `${base}w`, versionPrefix: `${base}v:` };
  }
}

/** The write of a miss while Redis is down: the body goes to the client only. */
class DroppedWrite implements MissHandler {
  private length = 0;

  async writeBody(chunk: Uint8Array): Promise<void> {
    this.length += chunk.byteLength;
  }

  async finish(): Promise<number> {
    return this.length;
  }

  abort(): void {}
}

function int(name: string, v: number, min: number): number {
  if (!Number.isSafeInteger(v) || v < min) {
    throw new RangeError(`RedisStorage: ${name} must be an integer >= ${min}, got ${v}`);
  }
  return v;
}
