/**
 * Why a response was not cached (Pingora's `NoCacheReason`): the built-in reasons as strings, and
 * `{ custom }` for reasons an application defines.
 */

/** The reasons the cache itself reports. */
export type BuiltinNoCacheReason =
  /** Caching was never enabled for the request. */
  | 'NeverEnabled'
  /** The origin's directives made the response uncacheable. */
  | 'OriginNotCache'
  /** The response was larger than the largest asset the cache stores. */
  | 'ResponseTooLarge'
  /** The size is not known yet and the asset was too large before: cache waits for the final size. */
  | 'PredictedResponseTooLarge'
  /** The storage failed. */
  | 'StorageError'
  /** Some other internal failure. */
  | 'InternalError'
  /** Cacheable, but admission is skipped this time (it was predicted uncacheable). */
  | 'Deferred'
  /** The upstream filter declined to send the request upstream. */
  | 'DeclinedToUpstream'
  /** The upstream failed or could not be reached. */
  | 'UpstreamError'
  /** The cache lock's writer found the response uncacheable. */
  | 'CacheLockGiveUp'
  /** This request waited too long on the cache lock's writer and went upstream uncached. */
  | 'CacheLockTimeout';

/** A reason defined by the application. */
export interface CustomNoCacheReason {
  readonly custom: string;
}

/** Any reason a response was not cached. */
export type NoCacheReason = BuiltinNoCacheReason | CustomNoCacheReason;

/**
 * The built-in reasons by name, and `Custom(name)` to make an application-defined one.
 *
 * @example
 * ```ts
 * cache.disable(NoCacheReason.OriginNotCache);
 * cache.disable(NoCacheReason.Custom('BotTraffic'));
 * noCacheReasonAsStr(NoCacheReason.Custom('BotTraffic')); // 'BotTraffic'
 * ```
 */
export const NoCacheReason = {
  NeverEnabled: 'NeverEnabled',
  OriginNotCache: 'OriginNotCache',
  ResponseTooLarge: 'ResponseTooLarge',
  PredictedResponseTooLarge: 'PredictedResponseTooLarge',
  StorageError: 'StorageError',
  InternalError: 'InternalError',
  Deferred: 'Deferred',
  DeclinedToUpstream: 'DeclinedToUpstream',
  UpstreamError: 'UpstreamError',
  CacheLockGiveUp: 'CacheLockGiveUp',
  CacheLockTimeout: 'CacheLockTimeout',
  /** An application-defined reason. */
  Custom: (reason: string): CustomNoCacheReason => Object.freeze({ custom: reason }),
} as const;

/** The reason's name for logs: the built-in name, or the custom string itself (Pingora's `as_str`). */
export function noCacheReasonAsStr(reason: NoCacheReason): string {
  return typeof reason === 'string' ? reason : reason.custom;
}
