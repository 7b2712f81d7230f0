/**
 * `LoadBalancer<S>`: discovery, health checks and a selection algorithm together (Pingora's
 * `LoadBalancer`). `select()` runs on every request and touches no promise, timer or allocation
 * beyond the algorithm's iterator; discovery and health checks run beside it as a background
 * service of the `Server`.
 */
import type { BackgroundService, Logger, ServiceChannel, ShutdownWatch } from '@pingora-ts/core';
import { Backend } from './backend.js';
import { Backends } from './backends.js';
import { Static } from './discovery.js';
import type { HealthUpdate } from './health.js';
import type { HealthCheck } from './health-check.js';
import { InflightCounters, type Lease } from './inflight.js';
import type { BackendSelection, BackendSelectionBuilder, SelectionKey } from './selection/selection.js';

/** Decides whether a candidate is taken: `healthy` is the health table's verdict (`ready`). */
export type AcceptFn = (backend: Backend, healthy: boolean) => boolean;

const acceptHealthy: AcceptFn = (_b, healthy) => healthy;

/**
 * Sleeps `ms` or until shutdown starts, whichever is first, leaving no timer behind.
 */
function sleepUnlessShutdown(ms: number, shutdown: ShutdownWatch): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    const off = shutdown.onShutdown(done);
    function done() {
      clearTimeout(timer);
      off();
      resolve();
    }
  });
}

/**
 * Backends, their health and a selection algorithm.
 *
 * @example
 * ```ts
 * const upstreams = LoadBalancer.tryFromIter(RoundRobin, ['127.0.0.1:3001', '127.0.0.1:3002']);
 * upstreams.setHealthCheck(TcpHealthCheck.new());
 * upstreams.healthCheckFrequency = 1_000;
 * const bg = backgroundService('health check', upstreams);
 * server.addService(bg);
 *
 * const proxy = httpProxyService(server.configuration, {
 *   upstreamPeer() {
 *     const backend = upstreams.select('', 256);
 *     if (backend === undefined) throw PingoraError.explain(ErrorType.ConnectNoRoute, 'no healthy upstream');
 *     return new HttpPeer(backend.address, false, '');
 *   },
 * });
 * ```
 */
export class LoadBalancer<S extends BackendSelection> implements BackgroundService {
  /** How often (ms) to run the health check when running as a service; `undefined` = once, at start. */
  healthCheckFrequency: number | undefined = undefined;
  /** How often (ms) to run discovery when running as a service; `undefined` = once (or on the discovery's TTL). */
  updateFrequency: number | undefined = undefined;
  /** Check all backends at once instead of one after another. Default false. */
  parallelHealthCheck = false;
  /** In-flight counts of leases from {@link acquire} (read by `LeastConnections`). */
  readonly inflight = new InflightCounters();
  readonly #backends: Backends;
  readonly #builder: BackendSelectionBuilder<S>;
  #selector: S;
  #lastUpdate: number | undefined;
  #channel: ServiceChannel | undefined;

  /** Pingora's `from_backends`: the selection is built from what `backends` holds now. */
  constructor(builder: BackendSelectionBuilder<S>, backends: Backends) {
    this.#builder = builder;
    this.#backends = backends;
    this.#selector = builder.build(backends.getBackends(), { inflight: this.inflight });
  }

  /** Pingora's `LoadBalancer::from_backends`. */
  static fromBackends<S extends BackendSelection>(
    builder: BackendSelectionBuilder<S>,
    backends: Backends,
  ): LoadBalancer<S> {
    return new LoadBalancer(builder, backends);
  }

  /**
   * Pingora's `try_from_iter`: static backends of weight 1 from `"ip:port"` strings, ready to
   * select at once. For host names use `Static.resolve()` or `DnsDiscovery` with `fromBackends`.
   */
  static tryFromIter<S extends BackendSelection>(
    builder: BackendSelectionBuilder<S>,
    addrs: Iterable<string>,
  ): LoadBalancer<S> {
    const discovery = Static.tryFromIter(addrs);
    const backends = new Backends(discovery);
    backends.setDiscovered(discovery.discover());
    return new LoadBalancer(builder, backends);
  }

  /** The backends and their health. */
  backends(): Backends {
    return this.#backends;
  }

  /** The current selection (rebuilt when the set changes). */
  get selector(): S {
    return this.#selector;
  }

  /** Where health flips and update failures are logged (the backends' logger). */
  get logger(): Logger {
    return this.#backends.logger;
  }

  set logger(logger: Logger) {
    this.#backends.logger = logger;
  }

  /** Sets the health check (Pingora's `set_health_check`). */
  setHealthCheck(check: HealthCheck | undefined): void {
    this.#backends.setHealthCheck(check);
  }

  /** When the last successful `update()` finished (`Date.now()`), if any. */
  lastUpdateTiming(): number | undefined {
    return this.#lastUpdate;
  }

  /** Runs discovery; rebuilds the selection when the set changed. Rejects when discovery fails. */
  async update(): Promise<void> {
    await this.#backends.update(this.#rebuild);
    this.#lastUpdate = Date.now();
  }

  readonly #rebuild = (set: readonly Backend[]): void => {
    this.#selector = this.#builder.build(set, { inflight: this.inflight });
    this.inflight.prune(set);
    this.#channel?.publish({ backends: set.map((b) => ({ addr: b.addr, weight: b.weight })) }, 'backends');
  };

  /**
   * The first backend the algorithm offers for `key` that is ready (healthy and enabled), trying
   * at most `maxIterations` candidates; `undefined` when none is. The key matters to hashing
   * algorithms only.
   */
  select(key: SelectionKey, maxIterations: number): Backend | undefined {
    return this.selectWith(key, maxIterations, acceptHealthy);
  }

  /**
   * Like {@link select} with your own acceptance rule, called per distinct candidate with the
   * health verdict, e.g. to skip a backend this request already failed on.
   *
   * @example
   * ```ts
   * const b = lb.selectWith(key, 256, (backend, healthy) => healthy && !ctx.tried.has(backend.addr));
   * ```
   */
  selectWith(key: SelectionKey, maxIterations: number, accept: AcceptFn): Backend | undefined {
    const iter = this.#selector.iter(key);
    const backends = this.#backends;
    // Pingora's UniqueIterator: skip repeats, stop after maxIterations candidates. The set of
    // seen keys is only built when the first candidate was refused.
    let steps = 0;
    let firstKey: string | undefined;
    let seen: Set<string> | undefined;
    for (;;) {
      const b = iter.next();
      if (b === undefined || steps >= maxIterations) return undefined;
      steps++;
      const key = b.hashKey();
      if (firstKey === undefined) firstKey = key;
      else {
        if (seen === undefined) seen = new Set([firstKey]);
        if (seen.has(key)) continue;
        seen.add(key);
      }
      if (accept(b, backends.ready(b))) return b;
    }
  }

  /**
   * {@link selectWith} that also counts the backend as in use until the returned lease is
   * released. `LeastConnections` balances on these counts; with other algorithms they are
   * metrics (`lb.inflight.get(backend)`).
   */
  acquire(key: SelectionKey, maxIterations: number, accept: AcceptFn = acceptHealthy): Lease | undefined {
    const b = this.selectWith(key, maxIterations, accept);
    return b === undefined ? undefined : this.inflight.lease(b);
  }

  /**
   * The background loop (Pingora's `BackgroundService for LoadBalancer`): discovery when due,
   * then the health check when due, then sleep until the next is due. With neither frequency
   * set (and no discovery TTL) it runs each once and returns. Returns when `shutdown` fires.
   */
  async start(shutdown: ShutdownWatch, channel?: ServiceChannel): Promise<void> {
    let off: (() => void) | undefined;
    if (channel !== undefined) {
      // Worker processes apply these (see follow); the latest per backend reaches late starters.
      this.#channel = channel;
      off = this.#backends.onHealthChange((health) => channel.publish({ health }, `health:${health.key}`));
      this.#rebuild(this.#backends.getBackends());
    }
    try {
      await this.#loop(shutdown);
    } finally {
      off?.();
      this.#channel = undefined;
    }
  }

  /**
   * The worker side when the server runs worker processes: discovery and health checks run once,
   * in the main process ({@link start}); this applies the backend sets and health verdicts it
   * publishes, so every worker selects from the same healthy set. Backends arrive as address and
   * weight (`ext` does not cross processes). Returns when `shutdown` fires.
   */
  async follow(shutdown: ShutdownWatch, channel: ServiceChannel): Promise<void> {
    const off = channel.subscribe((message) => {
      const m = message as { health?: HealthUpdate; backends?: Array<{ addr: string; weight: number }> };
      if (m.health !== undefined) this.#backends.applyHealthUpdate(m.health);
      else if (m.backends !== undefined) {
        const backends = m.backends.map((b) => new Backend(b.addr, b.weight));
        this.#backends.setDiscovered({ backends }, this.#rebuild);
      }
    });
    await shutdown.wait();
    off();
  }

  async #loop(shutdown: ShutdownWatch): Promise<void> {
    let now = Date.now();
    let nextUpdate = now;
    let nextCheck = now;
    for (;;) {
      if (shutdown.shuttingDown) return;
      if (nextUpdate <= now) {
        try {
          await this.update();
        } catch (err) {
          this.logger.warn({ err }, 'load balancer: service discovery failed; keeping the current backends');
        }
        const every = this.#updateInterval();
        nextUpdate = every === undefined ? Number.POSITIVE_INFINITY : now + every;
      }
      if (nextCheck <= now) {
        await this.#backends.runHealthCheck(this.parallelHealthCheck);
        nextCheck =
          this.healthCheckFrequency === undefined
            ? Number.POSITIVE_INFINITY
            : now + this.healthCheckFrequency;
      }
      const wake = Math.min(nextUpdate, nextCheck);
      if (wake === Number.POSITIVE_INFINITY || shutdown.shuttingDown) return;
      await sleepUnlessShutdown(Math.max(0, wake - Date.now()), shutdown);
      now = Date.now();
    }
  }

  #updateInterval(): number | undefined {
    const ttl = this.#backends.discovery.nextUpdateIn?.();
    const every = this.updateFrequency;
    if (ttl === undefined) return every;
    return every === undefined ? ttl : Math.min(every, ttl);
  }
}
