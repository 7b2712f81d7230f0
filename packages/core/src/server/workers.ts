/**
 * The main process's side of worker processes: start `count` copies of this program (same Node
 * flags, script and arguments) that inherit the listening sockets, replace one that dies (with
 * backoff), pass signals on, and report when all have stopped.
 *
 * A worker re-runs the user's script like the main process does; {@link WORKER_ENV} tells it which
 * worker it is, so its `Server` adopts the inherited sockets, skips daemonizing and runs
 * background services as followers.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { Logger } from '../logger.js';
import type { ListenFds } from './listen-fds.js';
import { LISTEN_FDS_ENV } from './listen-fds.js';
import type { ProcessGroupState } from './process-group.js';

/** Environment variable holding a worker's index; set only in worker processes. */
export const WORKER_ENV = 'PINGORA_TS_WORKER';

const READY = 'pingora-ts:worker-ready';

/** This process's worker index, when it is a worker. */
export function workerIdFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const text = env[WORKER_ENV];
  if (text === undefined || !/^\d+$/.test(text)) return undefined;
  return Number(text);
}

/** A worker's report to the main process that its services are up. */
export function reportWorkerReady(): void {
  if (typeof process.send === 'function' && process.connected) process.send(READY, undefined, {}, () => {});
}

/** Restart delays of a worker that keeps dying: doubles from `initialMs` up to `maxMs`. */
export interface WorkerBackoff {
  initialMs: number;
  maxMs: number;
  /** A worker that lived this long resets the delay. */
  resetAfterMs: number;
}

/** Options of {@link WorkerSupervisor}. */
export interface WorkerSupervisorOptions {
  count: number;
  fds: ListenFds;
  group: ProcessGroupState;
  logger: Logger;
  backoff?: WorkerBackoff;
}

interface Slot {
  child: ChildProcess | undefined;
  startedAt: number;
  delayMs: number;
  timer: NodeJS.Timeout | undefined;
  /** Some worker in this slot reported ready: later deaths are replaced, not fatal. */
  served: boolean;
}

/**
 * Starts and supervises the workers.
 *
 * @example
 * ```ts
 * const workers = new WorkerSupervisor({ count: 4, fds: listenFds, group, logger });
 * await workers.start();            // every worker listening
 * workers.stop('SIGTERM');          // graceful: each drains, then exits
 * await workers.exited();
 * ```
 */
export class WorkerSupervisor {
  readonly #opts: WorkerSupervisorOptions;
  readonly #backoff: WorkerBackoff;
  readonly #slots: Slot[] = [];
  #stopping = false;
  #allExited: (() => void) | undefined;

  constructor(opts: WorkerSupervisorOptions) {
    this.#opts = opts;
    this.#backoff = opts.backoff ?? { initialMs: 100, maxMs: 10_000, resetAfterMs: 10_000 };
  }

  /** Pids of the running workers. */
  get pids(): number[] {
    return this.#slots.flatMap((s) => (s.child?.pid === undefined ? [] : [s.child.pid]));
  }

  /**
   * Start every worker; resolves when all report ready. Rejects when one exits first (a bind
   * error, a bug in the script): at start-up a crash is a configuration problem, not bad luck, so
   * it is not retried.
   */
  start(): Promise<void> {
    const ready = [];
    for (let id = 0; id < this.#opts.count; id++) {
      const slot: Slot = {
        child: undefined,
        startedAt: 0,
        delayMs: this.#backoff.initialMs,
        timer: undefined,
        served: false,
      };
      this.#slots.push(slot);
      ready.push(this.#spawn(id, slot));
    }
    return Promise.all(ready).then(() => {});
  }

  /** Pass `signal` to every worker and stop replacing them. */
  stop(signal: 'SIGTERM' | 'SIGINT'): void {
    this.#stopping = true;
    for (const slot of this.#slots) {
      clearTimeout(slot.timer);
      slot.timer = undefined;
      slot.child?.kill(signal);
    }
  }

  /** Resolves once every worker has exited (after {@link stop}). */
  exited(): Promise<void> {
    if (this.#slots.every((s) => s.child === undefined)) return Promise.resolve();
    return new Promise((resolve) => {
      this.#allExited = resolve;
    });
  }

  #spawn(id: number, slot: Slot): Promise<void> {
    const { fds, group, logger } = this.#opts;
    const inherited = fds.forChild(4);
    const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc', ...inherited.stdio],
      env: { ...process.env, [WORKER_ENV]: String(id), [LISTEN_FDS_ENV]: inherited.env },
    });
    slot.child = child;
    slot.startedAt = Date.now();
    group.attachWorker(id, child);
    logger.info({ worker: id, pid: child.pid }, 'worker started');
    return new Promise<void>((resolve, reject) => {
      let ready = false;
      child.on('message', (m) => {
        if (m !== READY || ready) return;
        ready = true;
        slot.served = true;
        resolve();
      });
      child.on('error', (err) => logger.error({ err, worker: id }, 'worker process error'));
      child.on('exit', (code, signal) => {
        group.detachWorker(id);
        slot.child = undefined;
        if (!ready)
          reject(new Error(`worker ${id} exited before it was ready (${signal ?? `code ${code}`})`));
        this.#onExit(id, slot, code, signal);
      });
    });
  }

  #onExit(id: number, slot: Slot, code: number | null, signal: NodeJS.Signals | null): void {
    const { logger } = this.#opts;
    if (this.#stopping || !slot.served) {
      if (this.#stopping) logger.info({ worker: id, code, signal }, 'worker exited');
      if (this.#slots.every((s) => s.child === undefined && s.timer === undefined)) this.#allExited?.();
      return;
    }
    const lived = Date.now() - slot.startedAt;
    if (lived >= this.#backoff.resetAfterMs) slot.delayMs = this.#backoff.initialMs;
    const delay = slot.delayMs;
    slot.delayMs = Math.min(slot.delayMs * 2, this.#backoff.maxMs);
    logger.error({ worker: id, code, signal, restartInMs: delay }, 'worker died; replacing it');
    slot.timer = setTimeout(() => {
      slot.timer = undefined;
      if (this.#stopping) return;
      // A replacement that dies before it is ready comes back through #onExit with a longer delay.
      this.#spawn(id, slot).catch(() => {});
    }, delay);
  }
}
