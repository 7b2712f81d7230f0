/**
 * Order statistics for benchmark tables: the median of a few rounds resists one round that a busy
 * machine slowed down, where the mean would not.
 */

/** The `p`-th percentile (0–100) of `xs` by nearest rank; NaN for no values. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/**
 * The median of `xs` (the mean of the middle two for an even count); NaN for no values.
 *
 * @example
 * ```ts
 * median([31_200, 12_100, 30_900]); // 30_900: the slow round does not drag it down
 * ```
 */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
