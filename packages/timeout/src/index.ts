/**
 * @module @pingora-ts/timeout
 *
 * Pingora's fast timeouts for the Node.js event loop. A proxy arms several timeouts per request
 * (connect, read, idle) and almost all of them are cancelled, so what matters is the cost of
 * arming and cancelling, not of firing. Deadlines are rounded up to 10 ms buckets; every timeout
 * in a bucket shares one unref'd `setTimeout`, created lazily. Arming allocates one small object,
 * cancelling unlinks it (O(1), no allocation), and refreshing a pending timer (a read timeout
 * restarted on every chunk) is a single store. Resolution: a timeout fires no earlier than its
 * duration and at most 10 ms later, plus event-loop lag.
 *
 * @example
 * ```ts
 * import { timeout, sleep, fastTimeout, isElapsed } from '@pingora-ts/timeout';
 *
 * const res = await timeout(fetch('http://origin/'), 1_000); // rejects with Elapsed after 1 s
 * await sleep(50);
 *
 * const idle = fastTimeout((sock) => sock.destroy(), 60_000, socket);
 * socket.on('data', () => idle.refresh());
 * socket.on('close', () => idle.clear());
 * ```
 */
export { TimerManager } from './timer-manager.js';
export type { TimerManagerOptions } from './timer-manager.js';
export type { FastTimer } from './buckets.js';
export type { TimeoutInput } from './promises.js';
export { defaultTimerManager, fastTimeout, sleep, timeout, timeoutSignal } from './shared.js';
export { Elapsed, ElapsedType, isElapsed } from './elapsed.js';
export { defaultTimerProvider } from './provider.js';
export type { TimerHandle, TimerProvider } from './provider.js';
export { DEFAULT_RESOLUTION_MS, roundTo } from './round.js';
