/** Deterministic randomness for tests and benchmarks, so a failure or a measurement replays. */

/**
 * mulberry32: a tiny seeded PRNG returning floats in [0, 1). Not for cryptography; the same seed
 * always gives the same stream.
 *
 * @example
 * ```ts
 * const rnd = mulberry32(2024);
 * const key = Math.floor(rnd() * 10_000);
 * ```
 */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
