/** Summary statistics for the benchmark tables. */

/** Arithmetic mean (NaN for no values). */
export const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
