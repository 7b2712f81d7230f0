/**
 * What a cache hit filter may force on a found asset (Pingora's `ForcedFreshness`).
 */

/**
 * `ForceExpired`: treat the asset as expired and revalidate it (and never serve it stale);
 * `ForceMiss`: ignore it and fetch anew; `ForceFresh`: serve it as fresh whatever its age.
 */
export type ForcedFreshness = 'ForceExpired' | 'ForceMiss' | 'ForceFresh';
