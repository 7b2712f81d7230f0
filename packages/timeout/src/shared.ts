/**
 * The free functions, bound to one process-wide {@link TimerManager} created on first use (so
 * importing this package reads no clock and starts no timer).
 */
import type { FastTimer } from './buckets.js';
import type { TimeoutInput } from './promises.js';
import { TimerManager } from './timer-manager.js';

let shared: TimerManager | undefined;

/** The manager behind the free functions, created on first use with the default provider. */
export function defaultTimerManager(): TimerManager {
  shared ??= new TimerManager();
  return shared;
}

/**
 * Wait for `input` for at most `ms` milliseconds; rejects with {@link Elapsed} when the deadline
 * passes first. See {@link TimerManager.timeout}.
 *
 * @example
 * ```ts
 * import { timeout, isElapsed } from '@pingora-ts/timeout';
 *
 * const body = await timeout(fetch(url).then((r) => r.text()), 2_000);
 * const user = await timeout(() => db.findUser(id), 500).catch((e) => (isElapsed(e) ? null : Promise.reject(e)));
 * ```
 */
export function timeout<T>(input: TimeoutInput<T>, ms: number): Promise<Awaited<T>> {
  return defaultTimerManager().timeout(input, ms);
}

/**
 * Resolve after `ms` milliseconds on the shared buckets. The timer is unref'd: a script whose
 * only pending work is this sleep exits without waiting for it.
 *
 * @example
 * ```ts
 * await sleep(100); // 100–110 ms, plus event-loop lag
 * ```
 */
export function sleep(ms: number): Promise<void> {
  return defaultTimerManager().sleep(ms);
}

/**
 * Call `callback(arg)` after `ms` milliseconds; returns a handle to `clear()` or `refresh()`.
 * See {@link TimerManager.fastTimeout}.
 *
 * @example
 * ```ts
 * import { fastTimeout } from '@pingora-ts/timeout';
 *
 * const t = fastTimeout((s) => s.destroy(new Error('idle')), 30_000, socket);
 * socket.on('data', () => t.refresh());
 * socket.on('close', () => t.clear());
 * ```
 */
export function fastTimeout(callback: () => void, ms: number): FastTimer;
export function fastTimeout<A>(callback: (arg: A) => void, ms: number, arg: A): FastTimer;
export function fastTimeout<A>(callback: (arg: A) => void, ms: number, arg?: A): FastTimer {
  return defaultTimerManager().fastTimeout(callback, ms, arg as A);
}

/**
 * An `AbortSignal` that aborts with an {@link Elapsed} reason after `ms` milliseconds.
 *
 * @example
 * ```ts
 * const res = await fetch(url, { signal: timeoutSignal(5_000) });
 * ```
 */
export function timeoutSignal(ms: number): AbortSignal {
  return defaultTimerManager().timeoutSignal(ms);
}
