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

/**
 * How a background task talks to the other processes of a server run with worker processes
 * (`threads` > 1): the task runs once, in the main process, and publishes what the workers need.
 */
export interface ServiceChannel {
  /**
   * Send `message` (structured-clone safe) to the workers. With `retainKey`, the latest message per
   * key is also replayed to workers that start later (a replaced worker).
   */
  publish(message: unknown, retainKey?: string): void;
  /** Receive what the task publishes (in workers). Returns an unsubscribe function. */
  subscribe(listener: (message: unknown) => void): () => void;
}

/**
 * A long-running task. `start` should return (or resolve) once `shutdown` fires.
 *
 * With worker processes, `start` runs once per server, in the main process, with a
 * {@link ServiceChannel}; each worker runs `follow` instead (when defined) to apply what `start`
 * publishes. Without workers, `start` runs in the one process and gets no channel.
 */
export interface BackgroundService {
  start(shutdown: ShutdownWatch, channel?: ServiceChannel): Promise<void> | void;
  /** Worker side of a task that runs in the main process; see {@link ServiceChannel}. */
  follow?(shutdown: ShutdownWatch, channel: ServiceChannel): Promise<void> | void;
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
  #channel: ServiceChannel | undefined;
  #follower = false;

  constructor(name: string, task: T, logger?: Logger) {
    this.name = `BG ${name}`;
    this.#task = task;
    this.#ownLogger = logger;
  }

  /** The task object (Pingora's `task()`), e.g. to share a health-checked backend list. */
  task(): T {
    return this.#task;
  }

  /**
   * Called by a `Server` running worker processes before `start`: in the main process the task
   * runs with `channel`; in a worker (`follower`) its `follow` runs instead, or nothing.
   */
  useChannel(channel: ServiceChannel, follower: boolean): void {
    this.#channel = channel;
    this.#follower = follower;
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
      const channel = this.#channel;
      if (channel === undefined) result = this.#task.start(shutdown);
      else if (!this.#follower) result = this.#task.start(shutdown, channel);
      else result = this.#task.follow?.(shutdown, channel);
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
