/** A micro-benchmark timer for the packages' `bench/` scripts. */

/**
 * Median nanoseconds per call of `fn`: doubles a batch until it runs for `roundMs / 4`, then times
 * `rounds` rounds of four such batches (about `roundMs` each). Good enough for ratios between
 * implementations measured back to back in one process; not a statistics package.
 *
 * @example
 * ```ts
 * const ns = nsPerOp(() => ring.node(keys[i++ % keys.length]!));
 * ```
 */
export function nsPerOp(fn: () => unknown, roundMs = 150, rounds = 5): number {
  let sink: unknown;
  let n = 1;
  for (;;) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) sink = fn();
    if (Number(process.hrtime.bigint() - t0) / 1e6 >= roundMs / 4) break;
    n *= 2;
  }
  const results: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n * 4; i++) sink = fn();
    results.push(Number(process.hrtime.bigint() - t0) / (n * 4));
  }
  // Keeps `sink` (and so every call's result) alive for the optimizer.
  if (sink === Symbol.for('never')) console.log(sink);
  results.sort((a, b) => a - b);
  return results[Math.floor(rounds / 2)]!;
}
