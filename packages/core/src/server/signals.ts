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

/** What the signals do; see {@link installSignalHandlers}. */
export interface SignalActions {
  /** SIGTERM (graceful) and SIGINT (fast). */
  shutdown(graceful: boolean): void;
  /** SIGQUIT: Pingora's graceful upgrade (send the listening sockets, then terminate gracefully). */
  quit(): void;
  /** SIGUSR2: start a successor that inherits the listening sockets, then terminate gracefully. */
  upgrade?(): void;
}

/**
 * Map SIGTERM to a graceful shutdown, SIGINT to a fast one, SIGQUIT to Pingora's graceful upgrade
 * and SIGUSR2 to the upgrade by successor. Returns a function that removes the handlers.
 */
export function installSignalHandlers(
  signals: SignalSource,
  logger: Logger,
  actions: SignalActions,
): () => void {
  const handlers: Array<[NodeJS.Signals, () => void]> = [
    [
      'SIGTERM',
      () => {
        logger.info('SIGTERM received, gracefully exiting');
        actions.shutdown(true);
      },
    ],
    [
      'SIGINT',
      () => {
        logger.info('SIGINT received, exiting');
        actions.shutdown(false);
      },
    ],
    [
      'SIGQUIT',
      () => {
        logger.info('SIGQUIT received, sending listening sockets and gracefully exiting');
        actions.quit();
      },
    ],
  ];
  const upgrade = actions.upgrade;
  if (upgrade !== undefined) {
    handlers.push([
      'SIGUSR2',
      () => {
        logger.info('SIGUSR2 received, starting a successor');
        upgrade();
      },
    ]);
  }
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
