/**
 * Pingora's `Inflight`: how many of something are happening right now, per key (open requests
 * per client, connections per upstream). Each increment hands back a guard; releasing the guard
 * takes its share back out. Rust does that on `Drop`; here it is `release()` or a `using`
 * declaration.
 */
import { type EstimatorKey, fixedSeeds, hashKey, LANES, randomSeeds } from './hash.js';
import { badCount, Sketch } from './sketch.js';

// Lookups cost O(hashes) and a full false positive needs all rows to collide (about
// (keys / slots)^hashes), so few rows and many slots keep lookups cheap and errors rare.
const HASHES = 4;
const SLOTS = 8192;

/** Options of {@link Inflight}. */
export interface InflightOptions {
  /** Rows of the sketch (Pingora: 4). */
  readonly hashes?: number;
  /** Counters per row (Pingora: 8192). */
  readonly slots?: number;
  /**
   * Fixes the hash seeds, so that which keys share counters is the same on every run (tests,
   * reproducing a report). Default: fresh random seeds per instance, like Pingora's `RandomState`.
   */
  readonly seed?: number;
}

/**
 * Tracks counts of ongoing actions per key in a count-min sketch (4 × 8192 by default).
 *
 * @example
 * ```ts
 * const inflight = new Inflight();
 *
 * async function handle(appid: string) {
 *   using guard = inflight.acquire(appid); // released when the block exits, even on throw
 *   if (guard.count > MAX_CONCURRENT) return tooBusy();
 *   return await work();
 * }
 *
 * // Pingora's shape:
 * const [g, count] = inflight.incr('a', 1);
 * g.release();
 * ```
 */
export class Inflight {
  readonly #sketch: Sketch;
  readonly #seeds: Int32Array;

  /** @throws RangeError for a bad sketch size. */
  constructor(options: InflightOptions = {}) {
    const seeds = options.seed === undefined ? randomSeeds : fixedSeeds(options.seed);
    this.#sketch = new Sketch(options.hashes ?? HASHES, options.slots ?? SLOTS, seeds);
    this.#seeds = seeds(2);
  }

  /**
   * Add `n` (default 1) to `key`; return the guard that takes it back and the new estimate,
   * as Pingora's `Inflight::incr` does.
   * @throws RangeError if `n` is not a safe integer; TypeError for a bad key.
   */
  incr(key: EstimatorKey, n = 1): [guard: InflightGuard, count: number] {
    const guard = this.acquire(key, n);
    return [guard, guard.count];
  }

  /**
   * Like {@link Inflight.incr} but returns just the guard, with the estimate in `guard.count`,
   * so that it fits a `using` declaration (which cannot destructure).
   */
  acquire(key: EstimatorKey, n = 1): InflightGuard {
    if (!Number.isSafeInteger(n)) badCount(n);
    hashKey(key, this.#seeds);
    const a = LANES[0]!;
    const b = LANES[1]!;
    return new Guard(this.#sketch, a, b, n, this.#sketch.add(a, b, n));
  }
}

/**
 * Returned by {@link Inflight.incr} / {@link Inflight.acquire}; holds one key's share of the
 * count until released. It keeps the key's hash, not the key, so mutating a byte-array key
 * afterwards does not matter.
 *
 * Unlike Rust there is no destructor: a guard that is dropped without `release()` (or `using`)
 * leaves its share counted for good.
 */
export interface InflightGuard extends Disposable {
  /** The estimate right after the increment that created this guard. */
  readonly count: number;
  /** True once released. */
  readonly released: boolean;
  /** The current estimate for this guard's key. */
  get(): number;
  /**
   * Add the guard's `n` to the key again and return the new estimate. Release takes back
   * everything the guard added (Pingora's guard takes back one `n` only, leaking the rest).
   * @throws TypeError after release, when the addition could never be taken back.
   */
  incr(): number;
  /** Take this guard's share out of the count. Idempotent. */
  release(): void;
  /** Same as {@link InflightGuard.release}, for `using`. */
  [Symbol.dispose](): void;
}

class Guard implements InflightGuard {
  readonly count: number;
  readonly #sketch: Sketch;
  readonly #a: number;
  readonly #b: number;
  readonly #n: number;
  /** Everything this guard added so far. */
  #held: number;
  #released = false;

  constructor(sketch: Sketch, a: number, b: number, n: number, count: number) {
    this.#sketch = sketch;
    this.#a = a;
    this.#b = b;
    this.#n = n;
    this.#held = n;
    this.count = count;
  }

  get released(): boolean {
    return this.#released;
  }

  get(): number {
    return this.#sketch.min(this.#a, this.#b);
  }

  incr(): number {
    if (this.#released) throw new TypeError('InflightGuard.incr() after release');
    this.#held += this.#n;
    return this.#sketch.add(this.#a, this.#b, this.#n);
  }

  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#sketch.add(this.#a, this.#b, -this.#held);
  }

  [Symbol.dispose](): void {
    this.release();
  }
}
