/**
 * In-flight request counts per backend, for least-connections selection and for metrics. A count
 * goes up when `LoadBalancer.acquire` hands out a {@link Lease} and down when the lease is
 * released; counts live outside the selection so that they survive the rebuild that follows
 * every change of the backend set.
 */
import type { Backend } from './backend.js';

/** One backend's counter. */
export interface InflightCell {
  count: number;
}

/**
 * A backend in use by one request. Call `release()` exactly when the request is done with it
 * (the proxy's `logging` phase, or before `upstreamPeer` picks again on a retry); later calls
 * do nothing.
 */
export interface Lease {
  readonly backend: Backend;
  release(): void;
}

class BackendLease implements Lease {
  #cell: InflightCell | undefined;

  constructor(
    readonly backend: Backend,
    cell: InflightCell,
  ) {
    this.#cell = cell;
    cell.count++;
  }

  release(): void {
    const cell = this.#cell;
    if (cell === undefined) return;
    this.#cell = undefined;
    cell.count--;
  }
}

/**
 * Counters by `Backend.hashKey()`.
 *
 * @example
 * ```ts
 * const lease = lb.acquire('', 256)!;
 * lb.inflight.get(lease.backend); // 1
 * lease.release();
 * ```
 */
export class InflightCounters {
  readonly #cells = new Map<string, InflightCell>();

  /** The counter cell of `backend`, created on first use. */
  cell(backend: Backend): InflightCell {
    const key = backend.hashKey();
    let c = this.#cells.get(key);
    if (c === undefined) {
      c = { count: 0 };
      this.#cells.set(key, c);
    }
    return c;
  }

  /** Requests in flight on `backend`. */
  get(backend: Backend): number {
    return this.#cells.get(backend.hashKey())?.count ?? 0;
  }

  /** Counts `backend` as in use until the returned lease is released. */
  lease(backend: Backend): Lease {
    return new BackendLease(backend, this.cell(backend));
  }

  /** Forgets idle counters of backends no longer in `live` (busy ones stay until released). */
  prune(live: readonly Backend[]): void {
    const keep = new Set(live.map((b) => b.hashKey()));
    for (const [key, cell] of this.#cells) if (cell.count <= 0 && !keep.has(key)) this.#cells.delete(key);
  }
}
