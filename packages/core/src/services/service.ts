/**
 * `ServerService`: what a `Server` runs (Pingora's `Service` trait; the listening `Service` class
 * and background services implement it). Start order is the order of `addService` calls.
 */
import type { Logger } from '../logger.js';
import type { ShutdownWatch } from '../server/shutdown.js';

/**
 * A unit the `Server` starts and stops.
 *
 * @example
 * ```ts
 * // A service that keeps a cache warm until shutdown.
 * const warmer: ServerService = {
 *   name: 'cache warmer',
 *   async start(shutdown) { timer = setInterval(refresh, 10_000); shutdown.onShutdown(() => clearInterval(timer)); },
 *   stop() {},
 * };
 * server.addService(warmer);
 * ```
 */
export interface ServerService {
  /** Shown in logs. */
  readonly name: string;
  /** Pingora's per-service thread count; kept for configuration compatibility, unused (one event loop). */
  threads?: number | undefined;
  /**
   * Start serving. Resolves once the service is ready (a listening service: all endpoints bound);
   * a rejection aborts `Server.start()`. `logger` is the server's, used unless the service was
   * given its own.
   */
  start(shutdown: ShutdownWatch, logger?: Logger): Promise<void> | void;
  /**
   * Stop: a graceful stop lets in-flight work run for up to `gracePeriodMs`, a fast one aborts
   * it. Resolves when the service is fully stopped (cleanup included). Calling it again with
   * `graceful = false` while a graceful stop is under way escalates it.
   */
  stop(graceful: boolean, gracePeriodMs: number): Promise<void> | void;
}
