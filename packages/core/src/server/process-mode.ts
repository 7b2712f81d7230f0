/**
 * How a `Server` spreads over processes. With `threads: 1` (the default) one process does
 * everything, as before. With more, the main process binds the listening sockets once, runs the
 * background services (health checks, discovery) once, and supervises `threads` worker processes
 * that accept on the shared sockets and serve; background services publish their results to the
 * workers. A service with a smaller `threads` than the server's runs in that many workers only.
 */
import type { Logger } from '../logger.js';
import { GenBackgroundService, type ServiceChannel } from '../services/background.js';
import type { ListenerConfig } from '../services/listener.js';
import type { ServerService } from '../services/service.js';
import { listenFds } from './listen-fds.js';
import { bindForWorkers } from './main-listeners.js';
import { groupState } from './process-group.js';
import { WorkerSupervisor, workerIdFromEnv } from './workers.js';

/** The role of this process in a server. */
export type ProcessMode =
  | { readonly kind: 'single' }
  | { readonly kind: 'main'; readonly workers: number }
  | { readonly kind: 'worker'; readonly id: number };

/** Services that bind listeners expose them (the listening `Service` does). */
function listenersOf(service: ServerService): readonly ListenerConfig[] {
  const fn = (service as { listeners?: () => readonly ListenerConfig[] }).listeners;
  return typeof fn === 'function' ? fn.call(service) : [];
}

/** Threads of a serving service: its own, else the server's. */
export function threadsOf(service: ServerService, serverThreads: number): number {
  return service.threads ?? serverThreads;
}

/** Decide the role from the environment (a worker) or the thread counts (main or single). */
export function detectMode(serverThreads: number, services: readonly ServerService[]): ProcessMode {
  const id = workerIdFromEnv();
  if (id !== undefined) return { kind: 'worker', id };
  let workers = 1;
  for (const s of services) {
    if (s instanceof GenBackgroundService) continue;
    workers = Math.max(workers, threadsOf(s, serverThreads));
  }
  return workers > 1 ? { kind: 'main', workers } : { kind: 'single' };
}

/**
 * The channel of the `index`-th service: every process of a server builds the same services in
 * the same order, so index and name identify the same task everywhere.
 */
export function serviceChannel(index: number, name: string): ServiceChannel {
  const topic = `service:${index}:${name}`;
  const group = groupState();
  return {
    publish: (message, retainKey) => group.publish(topic, message, retainKey),
    subscribe: (listener) => group.subscribe(topic, listener),
  };
}

/** Whether `service` starts in this process. */
export function startsHere(mode: ProcessMode, service: ServerService, serverThreads: number): boolean {
  if (service instanceof GenBackgroundService) return true;
  if (mode.kind === 'main') return false;
  if (mode.kind === 'worker') return mode.id < threadsOf(service, serverThreads);
  return true;
}

/** The main process's part: the shared sockets and the workers. */
export class MainProcess {
  readonly #workers: WorkerSupervisor;
  #handles: Array<{ close(): void }> = [];

  constructor(workers: number, logger: Logger) {
    groupState().becomeMain();
    this.#workers = new WorkerSupervisor({ count: workers, fds: listenFds, group: groupState(), logger });
  }

  /** Pids of the workers. */
  get workerPids(): number[] {
    return this.#workers.pids;
  }

  /** Bind every serving service's listeners (or take them from the inherited table), then start the workers. */
  async start(services: readonly ServerService[]): Promise<void> {
    const cfgs: ListenerConfig[] = [];
    for (const s of services) if (!(s instanceof GenBackgroundService)) cfgs.push(...listenersOf(s));
    this.#handles = await bindForWorkers(cfgs, listenFds);
    await this.#workers.start();
  }

  /** Tell every worker to stop (graceful: SIGTERM, else SIGINT). */
  stop(graceful: boolean): void {
    this.#workers.stop(graceful ? 'SIGTERM' : 'SIGINT');
  }

  /** Resolves when every worker has exited. */
  exited(): Promise<void> {
    return this.#workers.exited();
  }

  /** Kill the workers still running (the shutdown deadline passed). */
  kill(): void {
    for (const pid of this.#workers.pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    }
  }

  /**
   * Close the sockets this process bound. After a hand-over they stay open until exit instead:
   * closing a Unix socket the process bound removes its path, which the new server still serves.
   */
  close(handedOver: boolean): void {
    if (!handedOver) for (const h of this.#handles) h.close();
    this.#handles = [];
  }
}
