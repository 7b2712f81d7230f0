/**
 * `Consistent`: ketama consistent hashing (Pingora's `KetamaHashing`, nginx's
 * `hash $key consistent`) over @pingora-ts/ketama. Adding or removing a backend moves only the
 * keys that backend gains or loses. Fallbacks walk the ring point by point, so they follow the
 * same order nginx and Pingora use.
 */
import { Bucket, Continuum } from '@pingora-ts/ketama';
import type { Backend } from '../backend.js';
import type { BackendIter, BackendSelection, SelectionKey } from './selection.js';

/**
 * Weighted ketama hashing. Each weight unit puts 160 points on the ring. Unix-socket backends and
 * backends of weight 0 are left off the ring (Pingora skips the former and rejects the latter).
 *
 * @example
 * ```ts
 * const lb = LoadBalancer.tryFromIter(Consistent, ['10.0.0.1:80', '10.0.0.2:80', '10.0.0.3:80']);
 * const b = lb.select(session.reqHeader().uri, 256); // the same URI → the same backend
 * ```
 */
export class Consistent implements BackendSelection {
  readonly ring: Continuum;
  readonly #byAddr: Map<string, Backend>;

  constructor(backends: readonly Backend[]) {
    const inet = backends.filter((b) => b.family !== 0 && b.weight > 0);
    // Pingora hashes the parsed address (`::1`, no brackets): its ring, not nginx's text.
    this.ring = new Continuum(
      inet.map((b) => new Bucket(b.addr, b.weight)),
      { compat: 'pingora' },
    );
    // Two backends on one address (different weights): the last one answers, like Pingora's map.
    this.#byAddr = new Map(inet.map((b) => [b.addr, b]));
  }

  static build(backends: readonly Backend[]): Consistent {
    return new Consistent(backends);
  }

  iter(key: SelectionKey): BackendIter {
    return new ConsistentIterator(this.ring, this.#byAddr, this.ring.nodeIdx(key));
  }
}

class ConsistentIterator implements BackendIter {
  readonly #cursor: { idx: number };

  constructor(
    private readonly ring: Continuum,
    private readonly byAddr: Map<string, Backend>,
    idx: number,
  ) {
    this.#cursor = { idx };
  }

  next(): Backend | undefined {
    const addr = this.ring.getAddr(this.#cursor);
    return addr === undefined ? undefined : this.byAddr.get(addr);
  }
}
