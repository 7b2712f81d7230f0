/**
 * The shutdown broadcast: Pingora's `ShutdownWatch` (a `watch::Receiver<bool>`) as a read-only
 * object handed to every service and app, plus the controller the `Server` keeps to fire it.
 *
 * A shutdown starts either graceful (finish in-flight work, stop keep-alive) or fast (abort). A
 * graceful shutdown can later be escalated to a fast one (SIGINT after SIGTERM); the reverse is
 * not possible.
 */

/** Called when shutdown starts, and once more with `false` if a graceful shutdown becomes fast. */
export type ShutdownListener = (graceful: boolean) => void;

/**
 * Read side of the shutdown broadcast, given to services and apps.
 *
 * @example
 * ```ts
 * const app: ServerApp = {
 *   processNew(socket, shutdown) {
 *     const off = shutdown.onShutdown((graceful) => { if (!graceful) socket.destroy(); });
 *     socket.once('close', off);
 *     socket.pipe(socket);
 *   },
 * };
 * ```
 */
export interface ShutdownWatch {
  /** True once shutdown has started. */
  readonly shuttingDown: boolean;
  /** True while the shutdown is graceful; false when fast, or before shutdown starts. */
  readonly graceful: boolean;
  /**
   * Subscribe; returns an unsubscribe function. If shutdown has already started, `cb` runs on a
   * microtask with the current mode, so a late subscriber cannot miss the event.
   */
  onShutdown(cb: ShutdownListener): () => void;
  /** Resolves when shutdown starts (immediately if it already has). */
  wait(): Promise<void>;
}

/**
 * Write side of the broadcast, owned by the `Server` (or by a test driving a service directly).
 *
 * @example
 * ```ts
 * const ctl = new ShutdownController();
 * await service.start(ctl.watch);
 * ctl.shutdown(true);
 * await service.stop(true, 5_000);
 * ```
 */
export class ShutdownController {
  /** The read side to hand out. */
  readonly watch: ShutdownWatch;
  #state: 'running' | 'graceful' | 'fast' = 'running';
  // Value: whether the listener has been told about the current state (late subscribers).
  readonly #listeners = new Map<ShutdownListener, boolean>();
  readonly #onListenerError: (err: unknown) => void;
  #resolveStarted!: () => void;
  readonly #started = new Promise<void>((resolve) => {
    this.#resolveStarted = resolve;
  });

  /**
   * @param onListenerError receives what a listener throws (the `Server` passes its logger);
   *   by default the error is rethrown on a microtask, as an unhandled exception.
   */
  constructor(onListenerError?: (err: unknown) => void) {
    this.#onListenerError =
      onListenerError ??
      ((err) =>
        queueMicrotask(() => {
          throw err;
        }));
    const self = this;
    this.watch = {
      get shuttingDown() {
        return self.#state !== 'running';
      },
      get graceful() {
        return self.#state === 'graceful';
      },
      onShutdown: (cb) => this.#subscribe(cb),
      wait: () => this.#started,
    };
  }

  /** Whether shutdown has started. */
  get shuttingDown(): boolean {
    return this.#state !== 'running';
  }

  /**
   * Start the shutdown (or escalate a graceful one to fast). Returns false when the call changed
   * nothing: a second graceful request, or any request after a fast one.
   */
  shutdown(graceful: boolean): boolean {
    if (this.#state === 'fast' || (this.#state === 'graceful' && graceful)) return false;
    this.#state = graceful ? 'graceful' : 'fast';
    this.#resolveStarted();
    // Copy: a listener may unsubscribe itself (or another) while we iterate.
    for (const cb of [...this.#listeners.keys()]) {
      if (!this.#listeners.has(cb)) continue;
      this.#listeners.set(cb, true);
      this.#call(cb, graceful);
    }
    return true;
  }

  #call(cb: ShutdownListener, graceful: boolean): void {
    try {
      cb(graceful);
    } catch (err) {
      // One faulty subscriber must not keep the others from learning about the shutdown.
      this.#onListenerError(err);
    }
  }

  #subscribe(cb: ShutdownListener): () => void {
    this.#listeners.set(cb, false);
    if (this.#state !== 'running') {
      queueMicrotask(() => {
        // Skip if unsubscribed, or already told by an escalation that happened meanwhile.
        if (this.#listeners.get(cb) !== false) return;
        this.#listeners.set(cb, true);
        this.#call(cb, this.#state === 'graceful');
      });
    }
    return () => {
      this.#listeners.delete(cb);
    };
  }
}
