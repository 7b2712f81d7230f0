/**
 * The phases an {@link HttpCache} goes through during one request (Pingora's `CachePhase`), and
 * the short labels they are logged under.
 */

/**
 * Where a request stands with the cache. `Disabled` and `RevalidatedNoCache` carry a reason,
 * read through `HttpCache.noCacheReason()`.
 *
 * - `Disabled`: the cache is not used (never enabled, or turned off on the way).
 * - `Uninit`: enabled, no key yet.
 * - `Bypass`: enabled, but this request skips the lookup (e.g. predicted uncacheable).
 * - `CacheKey`: the key is set; the lookup comes next.
 * - `Hit`: a fresh asset is served from the cache.
 * - `Miss`: nothing usable was found; the response is fetched and may be stored.
 * - `Stale`: an expired asset was found.
 * - `StaleUpdating`: the expired asset is served while another request refreshes it.
 * - `Expired`: the expired asset is being replaced by a newly fetched one.
 * - `Revalidated`: the origin confirmed the expired asset (304); it is fresh again.
 * - `RevalidatedNoCache`: confirmed, but the new response may not be stored.
 */
export type CachePhase =
  | 'Disabled'
  | 'Uninit'
  | 'Bypass'
  | 'CacheKey'
  | 'Hit'
  | 'Miss'
  | 'Stale'
  | 'StaleUpdating'
  | 'Expired'
  | 'Revalidated'
  | 'RevalidatedNoCache';

const LABELS: Readonly<Record<CachePhase, string>> = {
  Disabled: 'disabled',
  Uninit: 'uninitialized',
  Bypass: 'bypass',
  CacheKey: 'key',
  Hit: 'hit',
  Miss: 'miss',
  Stale: 'stale',
  StaleUpdating: 'stale-updating',
  Expired: 'expired',
  Revalidated: 'revalidated',
  RevalidatedNoCache: 'revalidated-nocache',
};

/**
 * The lowercase label of a phase for logs and an `x-cache-status`-like header, as Pingora names
 * them: `'hit'`, `'miss'`, `'stale'`, `'stale-updating'`, `'expired'`, `'revalidated'`,
 * `'revalidated-nocache'`, `'bypass'`, `'disabled'`, `'key'`, `'uninitialized'`.
 *
 * @example
 * ```ts
 * resp.insertHeader('x-cache-status', cachePhaseAsStr(cache.phase)); // e.g. 'hit'
 * ```
 */
export function cachePhaseAsStr(phase: CachePhase): string {
  return LABELS[phase];
}

/**
 * Whether a request that ended in `phase` went to the upstream: every phase but the ones served
 * from the cache. `Uninit` and `CacheKey` answer false: the request has not got that far.
 */
export function phaseUsedUpstream(phase: CachePhase): boolean {
  switch (phase) {
    case 'Disabled':
    case 'Bypass':
    case 'Miss':
    case 'Expired':
    case 'Revalidated':
    case 'RevalidatedNoCache':
      return true;
    default:
      return false;
  }
}
