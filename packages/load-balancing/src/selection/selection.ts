/**
 * The selection interfaces (Pingora's `BackendSelection` and `BackendIter`): a selection is built
 * from the sorted backends each time the set changes, and for each request yields backends in
 * preference order — the first choice, then fallbacks for when it is unhealthy or refused.
 */
import type { Backend } from '../backend.js';
import type { InflightCounters } from '../inflight.js';

/** The key hashing selections hash: a string (hashed as UTF-8) or bytes. */
export type SelectionKey = string | Uint8Array;

/** Backends in preference order for one key. `undefined` ends the iteration. */
export interface BackendIter {
  next(): Backend | undefined;
}

/** A built selection: one iterator per request. */
export interface BackendSelection {
  iter(key: SelectionKey): BackendIter;
}

/** What a selection may use besides the backends. */
export interface SelectionContext {
  /** In-flight requests per backend (filled by `LoadBalancer.acquire`). */
  inflight: InflightCounters;
}

/**
 * Builds a selection from the sorted backends (Pingora's `BackendSelection::build`). The
 * selection classes (`RoundRobin`, `Consistent`, …) are builders through their static `build`.
 *
 * @example
 * ```ts
 * // Always the first backend that is up: a primary with standbys.
 * const Failover: BackendSelectionBuilder<BackendSelection> = {
 *   build: (backends) => ({
 *     iter() {
 *       let i = 0;
 *       return { next: () => backends[i++] };
 *     },
 *   }),
 * };
 * const lb = LoadBalancer.tryFromIter(Failover, ['10.0.0.1:80', '10.0.0.2:80']);
 * ```
 */
export interface BackendSelectionBuilder<S extends BackendSelection> {
  build(backends: readonly Backend[], context: SelectionContext): S;
}
