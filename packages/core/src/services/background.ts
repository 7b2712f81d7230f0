/**
 * Background services (Pingora's `BackgroundService` and `background_service()`): a task that runs
 * beside the listening services for the life of the server (health checks, cache refreshers,
 * metrics pushers) and returns once the shutdown watch fires.
 *
 * A failing task is logged, never fatal: a health checker's bug must not take the proxy down.
 */
import { defaultLogger, type Logger } from '../logger.js';
import type { ShutdownWatch } from '../server/shutdown.js';
import type { ServerService } from './service.js';

/** A long-running task. `start` should return (or resolve) once `shutdown` fires. */
export interface BackgroundService {
  start(shutdown: ShutdownWatch): Promise<void> | void;
}

/**
 * The {@link ServerService} wrapping a {@link BackgroundService}; make one with
 * {@link backgroundService}. It is ready as soon as the task has been launched.
 */
export class GenBackgroundService<T extends BackgroundService = BackgroundService> implements ServerService {
  /** `"BG {name}"`, as in Pingora. */
  readonly name: string;
  /** Background services run on one "thread", as in Pingora. */
  threads: number | undefined = 1;
  readonly #task: T;
  readonly #ownLogger: Logger | undefined;
  #logger: Logger | undefined;
  #running: Promise<void> | undefined;
  #done = false;

  constructor(name: string, task: T, logger?: Logger) {
    this.name = `BG ${name}`;
    this.#task = task;
    this.#ownLogger = logger;
  }

  /** The task object (Pingora's `task()`), e.g. to share a health-checked backend list. */
  task(): T {
    return this.#task;
  }

  /** Whether the task has returned (or failed). */
  get finished(): boolean {
    return this.#done;
  }

  /** Launch the task and return at once; its failure is logged, not thrown. */
  start(shutdown: ShutdownWatch, logger?: Logger): void {
    if (this.#running !== undefined) return;
    const log = (this.#ownLogger ?? logger ?? defaultLogger()).child({ service: this.name });
    this.#logger = log;
    const failed = (err: unknown) => log.error({ err }, 'background service failed');
    let result: Promise<void> | void;
    try {
      result = this.#task.start(shutdown);
    } catch (err) {
      failed(err);
      result = undefined;
    }
    this.#running = Promise.resolve(result)
      .then(undefined, failed)
      .finally(() => {
        this.#done = true;
      });
  }

  /**
   * Wait for the task to return, at most `gracePeriodMs` (it learns about the shutdown from its
   * watch, not from this call). After a graceful shutdown, a task still running then is logged and
   * left behind; a fast one (SIGINT, or a failed start) does not wait, so nothing is worth a warning.
   */
  async stop(graceful: boolean, gracePeriodMs: number): Promise<void> {
    const running = this.#running;
    if (running === undefined || this.#done || !graceful) return;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), gracePeriodMs);
    });
    const outcome = await Promise.race([running, late]);
    clearTimeout(timer);
    if (outcome === 'late')
      this.#logger?.warn({ gracePeriodMs }, 'background service still running after grace period');
  }
}

/**
 * Wrap `task` as a service named `"BG {name}"` (Pingora's `background_service`).
 *
 * @example
 * ```ts
 * const checker = backgroundService('health check', {
 *   async start(shutdown) {
 *     while (!shutdown.shuttingDown) {
 *       await backends.runHealthCheck();
 *       await Promise.race([sleep(1_000), shutdown.wait()]);
 *     }
 *   },
 * });
 * server.addService(checker);
 * ```
 */
export function backgroundService<T extends BackgroundService>(
  name: string,
  task: T,
  logger?: Logger,
): GenBackgroundService<T> {
  return new GenBackgroundService(name, task, logger);
}
