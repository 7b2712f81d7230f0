/**
 * How an asset found in the cache is to be treated (Pingora's `HitStatus`): by its own freshness,
 * or as the application's hit filter forced it.
 */

/**
 * - `Expired`: its freshness lifetime is over.
 * - `ForceExpired`: the application marked it expired; it is revalidated and never served stale.
 * - `ForceMiss`: the application wants it fetched again, as if it were absent.
 * - `FailedHitFilter`: the hit filter failed, so the asset cannot be trusted: a miss.
 * - `Fresh`: within its freshness lifetime.
 * - `ForceFresh`: expired, but the application serves it as fresh.
 */
export type HitStatus = 'Expired' | 'ForceExpired' | 'ForceMiss' | 'FailedHitFilter' | 'Fresh' | 'ForceFresh';

/** The hit statuses by name. */
export const HitStatus = {
  Expired: 'Expired',
  ForceExpired: 'ForceExpired',
  ForceMiss: 'ForceMiss',
  FailedHitFilter: 'FailedHitFilter',
  Fresh: 'Fresh',
  ForceFresh: 'ForceFresh',
} as const satisfies Record<HitStatus, HitStatus>;

/**
 * Whether the asset may be served as fresh (`Fresh` or `ForceFresh`).
 *
 * @example
 * ```ts
 * const status: HitStatus = meta.isFresh(Date.now()) ? 'Fresh' : 'Expired';
 * isFresh(status); // true for a fresh asset
 * ```
 */
export function isFresh(status: HitStatus): boolean {
  return status === 'Fresh' || status === 'ForceFresh';
}

/**
 * Whether the asset must be ignored and the request handled as a miss (`ForceMiss`,
 * `FailedHitFilter`). A failed hit filter is not treated as merely expired: even a successful
 * revalidation could not make an asset usable that the filter could not judge.
 */
export function isTreatedAsMiss(status: HitStatus): boolean {
  return status === 'ForceMiss' || status === 'FailedHitFilter';
}

const SNAKE: Readonly<Record<HitStatus, string>> = {
  Expired: 'expired',
  ForceExpired: 'force_expired',
  ForceMiss: 'force_miss',
  FailedHitFilter: 'failed_hit_filter',
  Fresh: 'fresh',
  ForceFresh: 'force_fresh',
};

/** The snake_case label Pingora logs a hit status under (`'force_expired'`). */
export function hitStatusAsStr(status: HitStatus): string {
  return SNAKE[status];
}
