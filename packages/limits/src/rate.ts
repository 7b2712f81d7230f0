/**
 * Pingora's `Rate`: events per key per interval, from two count-min sketches that take turns as
 * the current (counting) and previous (reporting) window. Windows roll lazily: nothing runs on a
 * timer, each call first checks how long ago the last roll was, so an idle `Rate` costs nothing.
 */
import { type EstimatorKey, hashKey, LANES, randomSeeds } from './hash.js';
import { badCount, Sketch } from './sketch.js';

/**
 * What {@link Rate.rateWith} hands to a rate function.
 *
 * @example
 * ```ts
 * // Weight the finished window 10 % and the running one 90 %.
 * const rate9010 = (c: RateComponents) => (c.prevSamples * 0.1 + c.currSamples * 0.9) / (c.interval / 1000);
 * ```
 */
export interface RateComponents {
  /** Count in the previous (completed) window. */
  readonly prevSamples: number;
  /** Count so far in the current window. */
  readonly currSamples: number;
  /** The window length in milliseconds. */
  readonly interval: number;
  /** How far into the current window this call is, from 0 (inclusive) to 1 (exclusive). */
  readonly currentIntervalFraction: number;
}

/** A function computing a rate (or anything else) from {@link RateComponents}. */
export type RateCalcFn<T> = (components: RateComponents) => T;

/**
 * Events per second over the last `interval`, interpolating between windows: the previous
 * window weighted by the part of it still inside the last `interval`, plus the current window
 * (the sliding-window estimate from Cloudflare's "Counting things, a lot of different things").
 *
 * @example
 * ```ts
 * const perSecond = rate.rateWith(clientIp, PROPORTIONAL_RATE_ESTIMATE_CALC_FN);
 * ```
 */
export const PROPORTIONAL_RATE_ESTIMATE_CALC_FN: RateCalcFn<number> = (c) =>
  (c.prevSamples * (1 - c.currentIntervalFraction) + c.currSamples) / (c.interval / 1000);

/** Options of {@link Rate}. */
export interface RateOptions {
  /** Rows of each sketch (Pingora: 4). */
  readonly hashes?: number;
  /** Counters per row (Pingora: 1024; fewer suffice for a short interval with few keys). */
  readonly slots?: number;
  /**
   * Monotonic clock in milliseconds; defaults to `performance.now()`. Inject one in tests.
   * A clock that goes backwards is read as no time passing.
   */
  readonly now?: () => number;
}

// Pingora's defaults for Rate; see Inflight for why few rows and many slots.
const HASHES = 4;
const SLOTS = 1024;

/**
 * A stable rate estimator: counts events per key in windows of `intervalMs` and reports the
 * rate of the last completed window while the current one fills.
 *
 * Windows are anchored at the last roll, not at fixed clock boundaries: the first call at least
 * one interval after the last roll starts a new window at that moment, clears the window before
 * the previous one and, when two or more intervals passed, the previous one too.
 *
 * @example
 * ```ts
 * const limiter = new Rate(1000);
 * if (limiter.observe(appid, 1) > MAX_REQ_PER_SEC) return tooManyRequests();
 * limiter.rate(appid); // requests per second over the last completed second
 * ```
 */
export class Rate {
  #current: Sketch;
  #previous: Sketch;
  readonly #interval: number;
  readonly #now: () => number;
  readonly #start: number;
  /** Milliseconds from `#start` to the last roll. */
  #lastReset = 0;
  readonly #seeds = randomSeeds(2);

  /**
   * @param intervalMs window length in milliseconds, an integer ≥ 1.
   * @throws RangeError for a bad interval or sketch size.
   */
  constructor(intervalMs: number, options: RateOptions = {}) {
    if (typeof intervalMs !== 'number') {
      throw new TypeError(`intervalMs must be a number, got ${typeof intervalMs}`);
    }
    if (!Number.isSafeInteger(intervalMs) || intervalMs < 1) {
      throw new RangeError(`intervalMs must be a positive integer, got ${intervalMs}`);
    }
    const { hashes = HASHES, slots = SLOTS, now = () => performance.now() } = options;
    if (typeof now !== 'function') throw new TypeError('options.now must be a function');
    this.#current = new Sketch(hashes, slots);
    this.#previous = new Sketch(hashes, slots);
    this.#interval = intervalMs;
    this.#now = now;
    this.#start = now();
  }

  /** Pingora's `Rate::new_with_estimator_config`: a `Rate` whose sketches are `hashes × slots`. */
  static withEstimatorConfig(
    intervalMs: number,
    hashes: number,
    slots: number,
    options: Omit<RateOptions, 'hashes' | 'slots'> = {},
  ): Rate {
    return new Rate(intervalMs, { ...options, hashes, slots });
  }

  /** The window length in milliseconds. */
  get interval(): number {
    return this.#interval;
  }

  /**
   * Record `n` (default 1) events for `key`; return the count in the current window so far.
   * @throws RangeError if `n` is not a safe integer; TypeError for a bad key.
   */
  observe(key: EstimatorKey, n = 1): number {
    if (!Number.isSafeInteger(n)) badCount(n);
    this.#maybeReset();
    hashKey(key, this.#seeds);
    return this.#current.add(LANES[0]!, LANES[1]!, n);
  }

  /**
   * Events per second in the last completed window (`count × 1000 / intervalMs`); 0 when two
   * or more intervals passed since the last roll, since that window saw nothing.
   */
  rate(key: EstimatorKey): number {
    const past = this.#maybeReset();
    if (past >= this.#interval * 2) return 0;
    hashKey(key, this.#seeds);
    return (this.#previous.min(LANES[0]!, LANES[1]!) * 1000) / this.#interval;
  }

  /**
   * Compute a rate with your own function of the previous and current window counts.
   *
   * As in Pingora, `currentIntervalFraction` is the time since the last roll modulo the
   * interval, measured before this call rolls the windows; on a call that rolls, `currSamples`
   * is 0 and `prevSamples` is the window that just closed (both 0 after two idle intervals).
   *
   * @example
   * ```ts
   * rate.rateWith(key, PROPORTIONAL_RATE_ESTIMATE_CALC_FN);
   * rate.rateWith(key, ({ prevSamples, currSamples }) => Math.max(prevSamples, currSamples));
   * ```
   */
  rateWith<T>(key: EstimatorKey, fn: RateCalcFn<T>): T {
    const past = this.#maybeReset();
    const interval = this.#interval;
    let prevSamples = 0;
    let currSamples = 0;
    if (past < interval * 2) {
      hashKey(key, this.#seeds);
      prevSamples = this.#previous.min(LANES[0]!, LANES[1]!);
      if (past < interval) currSamples = this.#current.min(LANES[0]!, LANES[1]!);
    }
    return fn({
      prevSamples,
      currSamples,
      interval,
      currentIntervalFraction: (past % interval) / interval,
    });
  }

  /** Roll the windows if an interval has passed; return the ms since the last roll before it. */
  #maybeReset(): number {
    const now = Math.floor(this.#now() - this.#start);
    const past = now - this.#lastReset;
    if (past < this.#interval) return Math.max(past, 0);
    // The previous window is now two windows old: clear it and make it the current one.
    const stale = this.#previous;
    stale.clear();
    this.#previous = this.#current;
    this.#current = stale;
    // After two or more intervals without a roll, the window just retired is stale as well.
    if (past >= this.#interval * 2) this.#previous.clear();
    this.#lastReset = now;
    return past;
  }
}
