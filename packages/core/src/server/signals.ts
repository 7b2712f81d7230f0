/**
 * The process-level hooks `Server.runForever()` installs, and only it (a library must not change
 * process-wide behaviour): Pingora's signal mapping, and logging of errors nobody caught.
 */
import type { Logger } from '../logger.js';

/** Where signals come from; `process` by default (Pingora's `RunArgs` custom signal source). */
export interface SignalSource {
  on(signal: NodeJS.Signals, listener: () => void): unknown;
  off(signal: NodeJS.Signals, listener: () => void): unknown;
}

/**
 * Map SIGTERM to a graceful shutdown, SIGINT to a fast one, and SIGQUIT (Pingora's graceful
 * upgrade, not implemented yet) to a graceful one with a warning. Returns a function that removes
 * the handlers.
 */
export function installSignalHandlers(
  signals: SignalSource,
  logger: Logger,
  shutdown: (graceful: boolean) => void,
): () => void {
  const handlers: Array<[NodeJS.Signals, () => void]> = [
    [
      'SIGTERM',
      () => {
        logger.info('SIGTERM received, gracefully exiting');
        shutdown(true);
      },
    ],
    [
      'SIGINT',
      () => {
        logger.info('SIGINT received, exiting');
        shutdown(false);
      },
    ],
    [
      'SIGQUIT',
      () => {
        logger.warn('SIGQUIT received: graceful upgrade is not available yet, gracefully exiting');
        shutdown(true);
      },
    ],
  ];
  for (const [sig, fn] of handlers) signals.on(sig, fn);
  return () => {
    for (const [sig, fn] of handlers) signals.off(sig, fn);
  };
}

/**
 * Log uncaught exceptions and unhandled rejections at error level instead of letting Node end the
 * process (and every open connection with it). Node documents that state may be inconsistent
 * after an uncaught exception; `ServerOptions.catchUncaught: false` opts out.
 */
export function logUncaughtErrors(logger: Logger): void {
  process.on('uncaughtException', (err, origin) => {
    logger.error({ err, origin }, 'uncaught exception; the server keeps running');
  });
  process.on('unhandledRejection', (reason) => {
    logger.error({ err: reason }, 'unhandled promise rejection; the server keeps running');
  });
}
