/**
 * Pingora's `Estimator`: a count-min sketch. Memory is fixed at `hashes × slots` counters
 * whatever the number of distinct keys, and an estimate is never below the true count (it can
 * be above when every row of a key collides with heavier keys).
 */
import { type EstimatorKey, fixedSeeds, hashKey, LANES, randomSeeds } from './hash.js';
import { badCount, Sketch } from './sketch.js';

/**
 * A count-min sketch of `hashes` rows by `slots` counters, each row with its own random hash.
 *
 * Counters are float64 holding exact integers up to `Number.MAX_SAFE_INTEGER`; unlike Pingora's
 * `isize` they do not wrap. Counts passed in must be safe integers (negative is allowed, as in
 * Pingora, and lowers the counters).
 *
 * Error bound: with `slots = w` and `hashes = d`, an estimate exceeds the true count by more than
 * `2N / w` (N the sum of all counts) with probability at most `2^-d`.
 *
 * @example
 * ```ts
 * const est = new Estimator(4, 1024);
 * est.incr('10.0.0.1', 1); // 1
 * est.incr('10.0.0.1', 2); // 3
 * est.decr('10.0.0.1', 1);
 * est.get('10.0.0.1'); // 2
 * est.reset();
 * ```
 */
export class Estimator {
  readonly #sketch: Sketch;
  readonly #seeds: Int32Array;

  /**
   * @param hashes rows, each with its own hash (Pingora's `Rate` uses 4); an integer ≥ 1.
   * @param slots counters per row (Pingora's `Rate` uses 1024, `Inflight` 8192); an integer ≥ 1.
   * @param options.seed fixes the hash seeds, so which keys share counters is the same on every
   *   run (tests, reproducing a report). Default: fresh random seeds, like Pingora's `RandomState`.
   * @throws RangeError if either is not a positive integer.
   */
  constructor(hashes: number, slots: number, options: { readonly seed?: number } = {}) {
    const seeds = options.seed === undefined ? randomSeeds : fixedSeeds(options.seed);
    this.#sketch = new Sketch(hashes, slots, seeds);
    this.#seeds = seeds(2);
  }

  /** Number of rows. */
  get hashes(): number {
    return this.#sketch.hashes;
  }

  /** Counters per row. */
  get slots(): number {
    return this.#sketch.slots;
  }

  /**
   * Add `n` (default 1) to `key` and return its new estimate.
   * @throws TypeError for a key that is not a string, number or byte array;
   *   RangeError if `n` is not a safe integer.
   */
  incr(key: EstimatorKey, n = 1): number {
    if (!Number.isSafeInteger(n)) badCount(n);
    hashKey(key, this.#seeds);
    return this.#sketch.add(LANES[0]!, LANES[1]!, n);
  }

  /** Subtract `n` (default 1) from `key`. */
  decr(key: EstimatorKey, n = 1): void {
    if (!Number.isSafeInteger(n)) badCount(n);
    hashKey(key, this.#seeds);
    this.#sketch.add(LANES[0]!, LANES[1]!, -n);
  }

  /** The estimated count of `key` (0 for a key never seen, unless all its rows collide). */
  get(key: EstimatorKey): number {
    hashKey(key, this.#seeds);
    return this.#sketch.min(LANES[0]!, LANES[1]!);
  }

  /** Set every counter to 0. */
  reset(): void {
    this.#sketch.clear();
  }
}
