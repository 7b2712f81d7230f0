/**
 * Time sources for TTLs and lock ages. A clock returns milliseconds from an arbitrary origin and
 * must never go backwards; tests inject their own.
 */

/** Milliseconds from an arbitrary origin; must never go backwards. */
export type Clock = () => number;

/** The default: `performance.now()`, read on every call (monotonic, like Rust's `Instant`). */
export const monotonicClock: Clock = () => performance.now();

/**
 * A clock that reads `performance.now()` at most once per `resolutionMs` and returns the cached
 * value in between, the way `lru-cache` does with its `ttlResolution`. Reading the time costs
 * about as much as a whole cache hit in Node, so hot read paths gain from this; the price is that
 * an entry may be served up to `resolutionMs` after it expired, or longer while the event loop is
 * blocked (the cached value is dropped by an unref'd timer).
 *
 * @example
 * ```ts
 * const cache = new MemoryCache<string, Buffer>(10_000, { clock: coarseClock(1) });
 * ```
 */
export function coarseClock(resolutionMs = 1): Clock {
  let cached: number | undefined;
  const expire = () => {
    cached = undefined;
  };
  return () => {
    if (cached === undefined) {
      cached = performance.now();
      setTimeout(expire, resolutionMs).unref();
    }
    return cached;
  };
}
