/**
 * Where a {@link TimerManager} gets its time and its real timers from. Injecting these is how
 * tests drive the manager with a fake clock, and how an embedder could run it on another loop.
 */

/** Whatever the provider's `setTimeout` returns; passed back to its `clearTimeout`. */
export type TimerHandle = unknown;

/**
 * The clock and the timer primitives a {@link TimerManager} runs on.
 *
 * @example
 * ```ts
 * // A hand-driven clock for tests: time only moves when the test says so.
 * let now = 0;
 * const due: Array<{ at: number; cb: () => void }> = [];
 * const provider: TimerProvider = {
 *   now: () => now,
 *   setTimeout: (cb, ms) => due.push({ at: now + ms, cb }),
 *   clearTimeout: () => {},
 * };
 * ```
 */
export interface TimerProvider {
  /** A monotonic clock in milliseconds; only differences between readings are used. */
  now(): number;
  /** Call `callback` once after `ms` milliseconds. `ms` is an integer in `1..2^31-1`. */
  setTimeout(callback: () => void, ms: number): TimerHandle;
  /** Cancel a timer made by {@link TimerProvider.setTimeout}. */
  clearTimeout(handle: TimerHandle): void;
  /**
   * Optional. Run `callback` once the current event-loop turn's I/O callbacks are done. When
   * present, the manager reads {@link TimerProvider.now} at most once per turn (the way libuv
   * caches its loop time) and uses this to forget the reading; when absent it reads the clock
   * on every arm and refresh, which is exact but costs a clock read each time.
   */
  setImmediate?(callback: () => void): unknown;
}

/**
 * The provider used by default: `performance.now()` and the global timer functions.
 *
 * Each member is a closure that looks the global up *when called* rather than a reference
 * captured at import. A test that installs fake timers (`vi.useFakeTimers()`) or spies on
 * `globalThis.setTimeout` after this module was loaded is therefore still seen; a captured
 * reference would keep calling the real function.
 */
export const defaultTimerProvider: TimerProvider = Object.freeze({
  now: () => performance.now(),
  setTimeout: (callback: () => void, ms: number) => setTimeout(callback, ms),
  clearTimeout: (handle: TimerHandle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  // Left ref'd on purpose: while an immediate is pending, libuv's poll phase does not block, so a
  // turn's cached time is never carried across a wait for I/O.
  setImmediate: (callback: () => void) => setImmediate(callback),
});

/** Let a provider's timer not hold the process open, if the handle supports it (Node's does). */
export function unrefHandle(handle: TimerHandle): void {
  if (typeof handle === 'object' && handle !== null) {
    const unref = (handle as { unref?: unknown }).unref;
    if (typeof unref === 'function') unref.call(handle);
  }
}
