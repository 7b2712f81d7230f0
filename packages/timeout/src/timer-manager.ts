/**
 * `TimerManager`: one set of shared timer buckets with its own clock. The free functions
 * (`timeout`, `sleep`, `fastTimeout`, `timeoutSignal`) use a default instance; tests and
 * embedders construct their own with an injected {@link TimerProvider}.
 */
import { Buckets, type FastTimer } from './buckets.js';
import { sleepOn, type TimeoutInput, timeoutOn, timeoutSignalOn } from './promises.js';
import { defaultTimerProvider, type TimerProvider } from './provider.js';
import { DEFAULT_RESOLUTION_MS } from './round.js';

/** Options for {@link TimerManager}. */
export interface TimerManagerOptions {
  /** Clock and timer primitives; defaults to `performance.now()` and the global timers. */
  provider?: TimerProvider;
  /** Bucket width in ms; deadlines are rounded up to a multiple of it. Default 10 (Pingora's). */
  resolution?: number;
}

/**
 * Shared, coarse timers. Every deadline is rounded **up** to a multiple of `resolution` (10 ms)
 * on the manager's timeline (ms since it was created), and all timers with the same rounded
 * deadline share one unref'd provider timer. So a timer fires no earlier than its duration
 * and at most one resolution later (plus event-loop lag), never keeps the process alive, and
 * costs far less to arm and cancel than a `setTimeout`.
 *
 * With the default provider the clock is read once per event-loop turn, as libuv does for its
 * own timers: a timer armed late in a long turn (say, after 20 ms of synchronous work) counts
 * from the turn's start and may fire up to that much early. Pass a provider without
 * `setImmediate` for a clock read on every arm.
 *
 * @example
 * ```ts
 * // Drive a manager with a fake clock in tests.
 * import { vi } from 'vitest';
 * vi.useFakeTimers();
 * const timers = new TimerManager();
 * const t = timers.fastTimeout(onIdle, 1_000);
 * vi.advanceTimersByTime(600);
 * t.refresh();                  // activity: the countdown restarts
 * vi.advanceTimersByTime(600);  // onIdle not called yet
 * ```
 */
export class TimerManager {
  readonly #engine: Buckets;

  constructor(options: TimerManagerOptions = {}) {
    const resolution = options.resolution ?? DEFAULT_RESOLUTION_MS;
    if (!(resolution >= 1 && Number.isInteger(resolution))) {
      throw new RangeError(`TimerManager: resolution must be an integer >= 1, got ${resolution}`);
    }
    this.#engine = new Buckets(options.provider ?? defaultTimerProvider, resolution);
  }

  /** Bucket width in milliseconds. */
  get resolution(): number {
    return this.#engine.resolution;
  }

  /** How many timers are armed and neither fired nor cleared (gauge for metrics and tests). */
  get pending(): number {
    return this.#engine.pending;
  }

  /** Milliseconds since this manager was created, as its timers see it (whole ms). */
  now(): number {
    return this.#engine.now();
  }

  /**
   * Call `callback(arg)` once, `ms` milliseconds from now (rounded up to the resolution). The
   * hot-path API: no promise, and passing per-request state as `arg` to a shared callback
   * avoids allocating a closure per request.
   *
   * @example
   * ```ts
   * const onReadTimeout = (session: Session) => session.abort(ErrorType.ReadTimedout);
   * const t = timers.fastTimeout(onReadTimeout, 60_000, session);
   * socket.on('data', () => t.refresh()); // one store per chunk
   * socket.on('end', () => t.clear());
   * ```
   */
  fastTimeout(callback: () => void, ms: number): FastTimer;
  fastTimeout<A>(callback: (arg: A) => void, ms: number, arg: A): FastTimer;
  fastTimeout<A>(callback: (arg: A) => void, ms: number, arg?: A): FastTimer {
    return this.#engine.arm(callback, ms, arg);
  }

  /**
   * Wait for `input` (a promise, or a function whose result is awaited) for at most `ms`
   * milliseconds, rejecting with {@link Elapsed} if the deadline passes first. Lazy like
   * Pingora's: a function returning a plain value, or a promise already settled, arms no timer.
   * The work itself is not cancelled; pass it an `AbortSignal` from {@link timeoutSignal} for that.
   */
  timeout<T>(input: TimeoutInput<T>, ms: number): Promise<Awaited<T>> {
    return timeoutOn(this.#engine, input, ms);
  }

  /** Resolve after `ms` milliseconds (rounded up to the resolution). Does not keep the process alive. */
  sleep(ms: number): Promise<void> {
    return sleepOn(this.#engine, ms);
  }

  /**
   * An `AbortSignal` aborted with an {@link Elapsed} reason after `ms` milliseconds: the shared
   * buckets' version of `AbortSignal.timeout(ms)`, for `fetch` and other signal-taking APIs.
   * It holds its controller until the deadline even if the signal is dropped earlier.
   */
  timeoutSignal(ms: number): AbortSignal {
    return timeoutSignalOn(this.#engine, ms);
  }

  /**
   * Cancel every pending timer and provider timer, as if `clear()` had been called on each.
   * Promises from `sleep()` then never settle and `timeout()` just follows its work.
   */
  clearAll(): void {
    this.#engine.clearAll();
  }
}
