/**
 * Waiting for effects that land after an event (a log line, a counter, a closed socket). The
 * cap is wall-clock time, never a count of polls: on a loaded machine a poll can take far longer
 * than its interval, and a count-based cap then gives up while the system is merely slow.
 */
import type { EventEmitter } from 'node:events';

/** Bounds of {@link waitFor} and {@link waitForEvent}. */
export interface WaitOptions {
  /** Give up after this many milliseconds. Default 15 000: generous, since only a hang reaches it. */
  timeout?: number;
  /** Pause between polls, ms. Default 2. */
  interval?: number;
  /** What is being awaited, for the error thrown at the cap. */
  message?: string;
}

const DEFAULT_TIMEOUT = 15_000;

/**
 * Resolves once `cond` returns (or resolves to) true, polling it on the event loop `interval` ms
 * apart. `cond` is checked first without yielding, so an effect already in place costs no wait.
 * @throws Error naming `message` once `timeout` ms have passed with `cond` still false; an error
 *   thrown by `cond` propagates as is.
 *
 * @example
 * ```ts
 * await waitFor(() => logs.some((l) => l.msg.includes('status: 499')), { message: 'a 499 log line' });
 * ```
 */
export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  options: WaitOptions = {},
): Promise<void> {
  const { timeout = DEFAULT_TIMEOUT, interval = 2, message = cond.toString() } = options;
  const deadline = performance.now() + timeout;
  for (;;) {
    if (await cond()) return;
    if (performance.now() >= deadline) {
      throw new Error(`waitFor: still waiting after ${timeout} ms for ${message}`);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

/**
 * Resolves with the arguments of the next `name` event of `emitter` whose arguments satisfy
 * `filter` (default: any). Rejects if the emitter emits 'error' first (unless `name` is 'error')
 * or after `timeout` ms.
 *
 * @example
 * ```ts
 * const closed = waitForEvent(socket, 'close', { message: 'the upstream socket to close' });
 * ```
 */
export function waitForEvent<T extends unknown[] = unknown[]>(
  emitter: EventEmitter,
  name: string,
  options: WaitOptions & { filter?: (...args: T) => boolean } = {},
): Promise<T> {
  const { timeout = DEFAULT_TIMEOUT, message = `'${name}'`, filter } = options;
  return new Promise<T>((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      emitter.off(name, onEvent);
      if (name !== 'error') emitter.off('error', onError);
    };
    const onEvent = (...args: unknown[]) => {
      if (filter !== undefined && !filter(...(args as T))) return;
      done();
      resolve(args as T);
    };
    const onError = (err: unknown) => {
      done();
      reject(err);
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`waitForEvent: still waiting after ${timeout} ms for ${message}`));
    }, timeout);
    emitter.on(name, onEvent);
    if (name !== 'error') emitter.on('error', onError);
  });
}
