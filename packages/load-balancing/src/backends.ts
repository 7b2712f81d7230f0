/**
 * `Backends`: the discovered set of backends with the health of each (Pingora's `Backends`).
 * Discovery replaces the set; health checks update the health table; selection reads both.
 *
 * The health table is also the seam for several worker processes: one process runs the checks
 * and publishes every change ({@link Backends.onHealthChange}); the others apply what they receive
 * ({@link Backends.applyHealthUpdate}) and never probe the backends themselves.
 */
import { defaultLogger, type Logger } from '@pingora-ts/core';
import { isPingoraError } from '@pingora-ts/error';
import { type Backend, sortedBackends } from './backend.js';
import type { Discovered, ServiceDiscovery } from './discovery.js';
import { Health, type HealthUpdate } from './health.js';
import type { HealthCheck } from './health-check.js';

/** Options of {@link Backends}. */
export interface BackendsOptions {
  /** Where health flips are logged. Default: the shared stderr logger of @pingora-ts/core. */
  logger?: Logger;
}

/** Most verdicts kept for backends this process has not discovered yet (see applyHealthUpdate). */
const MAX_PENDING = 4096;

function sameSet(a: readonly Backend[], b: readonly Backend[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!a[i]!.equals(b[i]!)) return false;
  return true;
}

function describe(e: unknown): string {
  if (isPingoraError(e)) return e.toString().trim();
  if (e instanceof Error) return e.message;
  return String(e);
}

/**
 * A discovered, health-checked set of backends.
 *
 * @example
 * ```ts
 * const backends = new Backends(Static.tryFromIter(['127.0.0.1:3001', '127.0.0.1:3002']));
 * backends.setHealthCheck(TcpHealthCheck.new());
 * await backends.update();
 * await backends.runHealthCheck();
 * backends.getBackends().filter((b) => backends.ready(b));
 * ```
 */
export class Backends {
  /** Where the set comes from. */
  readonly discovery: ServiceDiscovery;
  /** Receives the health flip lines (`… becomes unhealthy, <error>` at warn, `… becomes healthy` at info). */
  logger: Logger;
  #healthCheck: HealthCheck | undefined;
  #backends: readonly Backend[] = Object.freeze([]);
  #health = new Map<string, Health>();
  readonly #listeners = new Set<(update: HealthUpdate) => void>();
  readonly #pending = new Map<string, HealthUpdate>();

  constructor(discovery: ServiceDiscovery, options: BackendsOptions = {}) {
    this.discovery = discovery;
    this.logger = options.logger ?? defaultLogger();
  }

  /** Sets the active health check (Pingora's `set_health_check`). */
  setHealthCheck(check: HealthCheck | undefined): void {
    this.#healthCheck = check;
  }

  /** The active health check, if any. */
  get healthCheck(): HealthCheck | undefined {
    return this.#healthCheck;
  }

  /**
   * Runs discovery and applies the result (see {@link Backends.setDiscovered}). Resolves true
   * when the set changed; `onChange` runs only then, with the new set.
   */
  async update(onChange?: (backends: readonly Backend[]) => void): Promise<boolean> {
    return this.setDiscovered(await this.discovery.discover(), onChange);
  }

  /**
   * Applies a discovery result directly (what `update()` does after `discover()`). When the set
   * differs from the current one it is swapped in; known backends keep their health (matched by
   * `hashKey()`), new ones start healthy and enabled. Enablement overrides apply either way.
   */
  setDiscovered(discovered: Discovered, onChange?: (backends: readonly Backend[]) => void): boolean {
    const next = sortedBackends(discovered.backends);
    const enablement = discovered.enablement;
    if (sameSet(this.#backends, next)) {
      if (enablement !== undefined) {
        for (const b of this.#backends) {
          const enabled = enablement.get(b.hashKey());
          if (enabled !== undefined) this.#setEnabled(b, enabled);
        }
      }
      return false;
    }
    const health = new Map<string, Health>();
    const changed: Backend[] = [];
    for (const b of next) {
      const key = b.hashKey();
      let h = this.#health.get(key);
      if (h === undefined) {
        h = new Health();
        const pending = this.#pending.get(key);
        if (pending !== undefined) {
          this.#pending.delete(key);
          h.healthy = pending.healthy;
          h.enabled = pending.enabled;
        }
      }
      const enabled = enablement?.get(key);
      if (enabled !== undefined && enabled !== h.enabled) {
        h.enabled = enabled;
        changed.push(b);
      }
      health.set(key, h);
    }
    this.#backends = Object.freeze(next);
    this.#health = health;
    for (const b of changed) this.#emit(b, health.get(b.hashKey())!);
    onChange?.(this.#backends);
    return true;
  }

  /**
   * Healthy and enabled. A backend not in the table is ready only when no health check is set
   * (Pingora's rule: with a check, an unknown backend is not trusted).
   */
  ready(backend: Backend): boolean {
    const h = this.#health.get(backend.hashKey());
    return h === undefined ? this.#healthCheck === undefined : h.healthy && h.enabled;
  }

  /** Takes a backend out of rotation (or back in) without touching its health. No-op if unknown. */
  setEnable(backend: Backend, enabled: boolean): void {
    this.#setEnabled(backend, enabled);
  }

  /** The current backends, sorted (Pingora's `get_backend`). The array is frozen; updates replace it. */
  getBackends(): readonly Backend[] {
    return this.#backends;
  }

  /** Health of `backend`, or undefined when it is not in the set. */
  healthOf(
    backend: Backend,
  ): Readonly<Pick<Health, 'healthy' | 'enabled' | 'consecutiveCounter'>> | undefined {
    return this.#health.get(backend.hashKey());
  }

  /**
   * Checks every backend once, in order, or all at once with `parallel`, and applies each result
   * to the health table. Flips are logged, announced to {@link onHealthChange} listeners and
   * passed to the check's `healthStatusChange`. Never rejects.
   */
  async runHealthCheck(parallel = false): Promise<void> {
    const check = this.#healthCheck;
    if (check === undefined) return;
    const backends = this.#backends;
    if (parallel) await Promise.all(backends.map((b) => this.#checkAndReport(check, b)));
    else for (const b of backends) await this.#checkAndReport(check, b);
  }

  /**
   * Subscribes to health and enablement changes (flips from checks, `setEnable`, discovery
   * enablement, applied updates). Returns the unsubscribe function. The update is plain data:
   * send it to other processes as is.
   */
  onHealthChange(listener: (update: HealthUpdate) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Applies a verdict made elsewhere (another process's checker). An update for a backend not
   * discovered here yet is kept and applied when it appears. Returns true when it changed state.
   */
  applyHealthUpdate(update: HealthUpdate): boolean {
    const h = this.#health.get(update.key);
    if (h === undefined) {
      if (this.#pending.size >= MAX_PENDING) this.#pending.delete(this.#pending.keys().next().value!);
      this.#pending.set(update.key, update);
      return false;
    }
    if (h.healthy === update.healthy && h.enabled === update.enabled) return false;
    h.healthy = update.healthy;
    h.enabled = update.enabled;
    h.consecutiveCounter = 0;
    const b = this.#backends.find((x) => x.hashKey() === update.key);
    if (b !== undefined) this.#emit(b, h);
    return true;
  }

  /** Every backend's current verdict, e.g. for a worker that starts after the checker. */
  healthSnapshot(): HealthUpdate[] {
    return this.#backends.map((b) => {
      const h = this.#health.get(b.hashKey())!;
      return { key: b.hashKey(), addr: b.addr, healthy: h.healthy, enabled: h.enabled };
    });
  }

  async #checkAndReport(check: HealthCheck, backend: Backend): Promise<void> {
    let ok = true;
    let error: unknown;
    try {
      await check.check(backend);
    } catch (e) {
      ok = false;
      error = e;
    }
    // Looked up after the check: the set may have been updated while it ran.
    const h = this.#health.get(backend.hashKey());
    if (h === undefined || !h.observe(ok, check.healthThreshold(ok))) return;
    const summary = check.backendSummary?.(backend) ?? backend.toString();
    if (ok) this.logger.info({ backend: backend.addr }, `${summary} becomes healthy`);
    else this.logger.warn({ backend: backend.addr }, `${summary} becomes unhealthy, ${describe(error)}`);
    this.#emit(backend, h);
    try {
      await check.healthStatusChange?.(backend, ok);
    } catch (e) {
      this.logger.error({ err: e, backend: backend.addr }, 'health status change callback failed');
    }
  }

  #setEnabled(backend: Backend, enabled: boolean): void {
    const h = this.#health.get(backend.hashKey());
    if (h === undefined || h.enabled === enabled) return;
    h.enabled = enabled;
    this.#emit(backend, h);
  }

  #emit(backend: Backend, h: Health): void {
    if (this.#listeners.size === 0) return;
    const update: HealthUpdate = {
      key: backend.hashKey(),
      addr: backend.addr,
      healthy: h.healthy,
      enabled: h.enabled,
    };
    for (const l of this.#listeners) {
      try {
        l(update);
      } catch (e) {
        this.logger.error({ err: e }, 'health change listener failed');
      }
    }
  }
}
