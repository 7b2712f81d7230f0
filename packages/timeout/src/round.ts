/**
 * Deadline rounding. Rounding every deadline *up* to a multiple of the resolution is what lets
 * thousands of timeouts share one underlying timer: all of them land on a handful of bucket
 * keys, and rounding up (never down) means no timeout fires before its duration has passed.
 */

/** Pingora's bucket width: deadlines are rounded up to a multiple of 10 ms. */
export const DEFAULT_RESOLUTION_MS = 10;

/**
 * Round `raw` (milliseconds) up to a multiple of `resolution`.
 *
 * For positive integers this is exactly Pingora's `round_to(raw, resolution) =
 * raw - 1 + resolution - (raw - 1) % resolution`. It is written as a ceiling instead so that
 * fractional inputs also round up and zero or negative inputs (a clock that went backwards in a
 * test) stay well defined, where the integer formula would not.
 *
 * @example
 * ```ts
 * roundTo(128, 10); // 130
 * roundTo(30, 10);  // 30
 * roundTo(31, 10);  // 40
 * ```
 */
export function roundTo(raw: number, resolution: number = DEFAULT_RESOLUTION_MS): number {
  return Math.ceil(raw / resolution) * resolution;
}
