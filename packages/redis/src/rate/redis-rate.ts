/**
 * `RedisRate`: `@pingora-ts/limits`' `Rate` with its counts in Redis, so a limit holds across every
 * instance together. Windows are fixed slices of the clock (`floor(now / interval)`), the same on
 * every instance; one Lua script per call adds to the current window and reads the previous one.
 * While Redis is unreachable the answer comes from the fallback the user chose.
 */
import { type RateCalcFn, Rate } from '@pingora-ts/limits';
import type { RedisClient } from '../client.js';
import { isUnavailable, RedisLink, type RedisLinkOptions } from '../link.js';
import { OBSERVE, PEEK } from './scripts.js';

/**
 * What a {@link RedisRate} answers while Redis is unreachable:
 * - `'local'` (default): this process's own `Rate` (count multiplied by `fallbackScale`);
 * - `'open'`: 0, every request passes;
 * - `'closed'`: `Infinity`, every request is over any limit.
 */
export type RateFallback = 'local' | 'open' | 'closed';

/** Options of {@link RedisRate}. */
export interface RedisRateOptions extends RedisLinkOptions {
  /** Window length in ms, an integer ≥ 1. */
  readonly intervalMs: number;
  /** Prefix of the counter keys (default `pingora:rate:`). */
  readonly prefix?: string;
  /** Wall clock in ms since the epoch (default `Date.now`); windows are cut from it on every instance. */
  readonly clock?: () => number;
  /** See {@link RateFallback}. */
  readonly fallback?: RateFallback;
  /**
   * Multiplies the local count in `'local'` fallback, e.g. the number of instances when traffic is
   * spread evenly, so the local limit approximates the global one (default 1).
   */
  readonly fallbackScale?: number;
}

type Script = (...args: (string | number | Buffer)[]) => Promise<unknown>;

/**
 * A distributed `Rate`: the same methods, returning promises. Counts are exact (Redis `INCRBY`),
 * shared by every instance, and each call is one round trip.
 *
 * @example
 * ```ts
 * const perSecond = new RedisRate(link, { intervalMs: 1000, fallback: 'local', fallbackScale: 3 });
 * // in ProxyHttp.requestFilter:
 * if ((await perSecond.observe(appid, 1)) > MAX_REQ_PER_SEC) {
 *   session.respondError(429);
 *   return true;
 * }
 * ```
 */
export class RedisRate {
  /** The link this limiter calls Redis through. */
  readonly link: RedisLink;
  readonly #interval: number;
  readonly #prefix: string;
  readonly #clock: () => number;
  readonly #fallback: RateFallback;
  readonly #scale: number;
  readonly #local: Rate;
  readonly #observe: Script;
  readonly #peek: Script;

  constructor(client: RedisClient | RedisLink, options: RedisRateOptions) {
    const { intervalMs } = options;
    if (!Number.isSafeInteger(intervalMs) || intervalMs < 1) {
      throw new RangeError(`RedisRate: intervalMs must be a positive integer, got ${intervalMs}`);
    }
    const fallback = options.fallback ?? 'local';
    if (fallback !== 'local' && fallback !== 'open' && fallback !== 'closed') {
      throw new RangeError(
        `RedisRate: fallback must be 'local', 'open' or 'closed', got ${String(fallback)}`,
      );
    }
    const scale = options.fallbackScale ?? 1;
    if (!Number.isFinite(scale) || scale <= 0)
      throw new RangeError(`RedisRate: fallbackScale must be > 0, got ${scale}`);
    this.link = RedisLink.of(client, options);
    this.#interval = intervalMs;
    this.#prefix = options.prefix ?? 'pingora:rate:';
    this.#clock = options.clock ?? Date.now;
    this.#fallback = fallback;
    this.#scale = scale;
    this.#local = new Rate(intervalMs);
    this.#observe = this.link.script('pingoraTsRateObserve', OBSERVE);
    this.#peek = this.link.script('pingoraTsRatePeek', PEEK);
  }

  /** The window length in milliseconds. */
  get interval(): number {
    return this.#interval;
  }

  /**
   * Records `n` (default 1) events for `key`; resolves to the count in the current window so far,
   * across every instance.
   */
  async observe(key: string, n = 1): Promise<number> {
    if (!Number.isSafeInteger(n)) throw new RangeError(`RedisRate: n must be a safe integer, got ${n}`);
    const w = this.#window();
    try {
      const [curr] = (await this.#observe(...this.#keys(key, w.index), n, w.ttl)) as [number, number];
      return Number(curr);
    } catch (e) {
      if (!isUnavailable(e)) throw e;
      return this.#fallbackCount(this.#local.observe(key, n));
    }
  }

  /** Events per second in the last completed window, across every instance. */
  async rate(key: string): Promise<number> {
    return this.rateWith(key, (c) => (c.prevSamples * 1000) / c.interval);
  }

  /**
   * A rate from your own function of the previous and current window counts (e.g.
   * `PROPORTIONAL_RATE_ESTIMATE_CALC_FN` for a sliding-window estimate).
   */
  async rateWith<T>(key: string, fn: RateCalcFn<T>): Promise<T> {
    const w = this.#window();
    let prevSamples: number;
    let currSamples: number;
    try {
      const [c, p] = (await this.#peek(...this.#keys(key, w.index))) as [number, number];
      currSamples = Number(c);
      prevSamples = Number(p);
    } catch (e) {
      if (!isUnavailable(e)) throw e;
      return this.#local.rateWith(key, (c) =>
        fn({
          ...c,
          prevSamples: this.#fallbackCount(c.prevSamples),
          currSamples: this.#fallbackCount(c.currSamples),
        }),
      );
    }
    return fn({ prevSamples, currSamples, interval: this.#interval, currentIntervalFraction: w.fraction });
  }

  #fallbackCount(local: number): number {
    if (this.#fallback === 'open') return 0;
    if (this.#fallback === 'closed') return Number.POSITIVE_INFINITY;
    return local * this.#scale;
  }

  #window(): { index: number; fraction: number; ttl: number } {
    const now = this.#clock();
    const index = Math.floor(now / this.#interval);
    const into = now - index * this.#interval;
    // Kept through the next window, where it is the previous one.
    return { index, fraction: into / this.#interval, ttl: 2 * this.#interval - Math.floor(into) + 1000 };
  }

  #keys(key: string, index: number): [string, string] {
    const base = `${this.#prefix}{${key}}:`;
    return [`${base}${index}`, `${base}${index - 1}`];
  }
}
