/**
 * The cache storage contract (Pingora's `Storage`, `HandleHit`, `HandleMiss`): what the proxy's cache
 * phases call to look an asset up, stream a miss into the store, purge it and refresh its meta. Memory,
 * disk and Redis storages all implement this one interface.
 */
import { ErrorType } from '@pingora-ts/error';
import type { EvictionManager } from '../eviction/eviction.js';

/**
 * The key a storage and an eviction manager file an asset under: `hashKey` is the combined hex of the
 * primary (and variance) hash, `userTag` the owner's tag kept alongside it (Pingora's `CompactCacheKey`).
 */
export interface StorageKey {
  readonly hashKey: string;
  readonly userTag: string;
}

/** Why an asset is purged: to make room (`Eviction`) or because it was invalidated (`Invalidation`). */
export type PurgeType = 'Eviction' | 'Invalidation';

/** Reads one cached body. A handler is single-reader; open another with a new `lookup`. */
export interface HitHandler {
  /**
   * The next chunk of the body, or `undefined` at the end. On an asset still being written this waits
   * for the writer; it rejects if the writer aborted.
   */
  readBody(): Promise<Uint8Array | undefined>;
  /** Whether {@link HitHandler.seek} can be used on this hit. */
  canSeek(): boolean;
  /**
   * Restart reading at byte `start` and stop before byte `end` (exclusive; the body's end when
   * omitted). Throws when `start` is past the end of the body.
   */
  seek(start: number, end?: number): void;
  /** Release the handler. Reading after `finish` is an error. */
  finish(): Promise<void>;
}

/** Writes one asset's body after {@link Storage.getMissHandler} stored its meta. */
export interface MissHandler {
  /** Append `chunk`; `eof` marks the last one. Rejects (and discards the asset) past the size limit. */
  writeBody(chunk: Uint8Array, eof: boolean): Promise<void>;
  /** Commit the asset; resolves to the body size admitted. */
  finish(): Promise<number>;
  /** Give up on the write: the partial asset is discarded and partial readers fail. */
  abort(reason?: unknown): void;
}

/** What a lookup found: the stored meta and a handler to read the body. */
export interface LookupResult<M> {
  meta: M;
  hit: HitHandler;
}

/**
 * A cache storage over meta type `M` (the cache's `CacheMeta`).
 *
 * @example
 * ```ts
 * async function serve<M>(storage: Storage<M>, key: StorageKey) {
 *   const found = await storage.lookup(key);
 *   if (!found) return undefined;
 *   const chunks: Uint8Array[] = [];
 *   for (let c = await found.hit.readBody(); c; c = await found.hit.readBody()) chunks.push(c);
 *   await found.hit.finish();
 *   return chunks;
 * }
 * ```
 */
export interface Storage<M> {
  /** The asset stored (or being written) under `key`, if any. */
  lookup(key: StorageKey): Promise<LookupResult<M> | undefined>;
  /** Store `meta` for `key` and return a handler to write its body. */
  getMissHandler(key: StorageKey, meta: M): Promise<MissHandler>;
  /** Delete the asset under `key`; resolves to whether something was deleted. */
  purge(key: StorageKey, type: PurgeType): Promise<boolean>;
  /** Replace the meta of the asset under `key`; resolves to whether the asset exists. */
  updateMeta(key: StorageKey, meta: M): Promise<boolean>;
  /** Whether a lookup can return an asset whose body is still being written. */
  supportStreamingPartialWrite(): boolean;
  /**
   * The eviction manager this storage admits its assets to itself, if it keeps one (the
   * in-memory storage does). The cache leaves eviction to the storage when it is given the same
   * manager, so no asset is admitted twice.
   */
  readonly evictionManager?: EvictionManager | undefined;
}

/**
 * The error type of a body that outgrew the storage's max file size (the cache's `ResponseTooLarge`
 * no-cache reason): the write is refused and its partial asset discarded.
 */
export const ERR_RESPONSE_TOO_LARGE: ErrorType = ErrorType.Custom('ResponseTooLarge');
