/**
 * `NodeIterator`: Pingora's `NodeIterator`, walking the ring point by point from a key's point.
 * It is an ordinary JavaScript iterator, so `for…of` works, but it never ends on a non-empty
 * ring: take what you need and break.
 */
import type { Continuum } from './continuum.js';

/**
 * Iterator over the servers of a ring in failover order, from {@link Continuum.nodeIter}.
 * `idx` is the index of the point the next call will return, as in Pingora.
 *
 * @example
 * ```ts
 * const tried = new Set<string>();
 * for (const addr of ring.nodeIter(key)) {
 *   if (tried.size === 3) break;
 *   tried.add(addr); // a server repeats once per point it owns
 * }
 * ```
 */
export class NodeIterator implements IterableIterator<string> {
  readonly #ring: Continuum;
  readonly #cursor: { idx: number };

  /** @internal Use {@link Continuum.nodeIter}. */
  constructor(ring: Continuum, idx: number) {
    this.#ring = ring;
    this.#cursor = { idx };
  }

  /** Index of the point the next `next()` returns. */
  get idx(): number {
    return this.#cursor.idx;
  }

  /** The next server; `done` only for an empty ring. */
  next(): IteratorResult<string, undefined> {
    const addr = this.#ring.getAddr(this.#cursor);
    return addr === undefined ? { done: true, value: undefined } : { done: false, value: addr };
  }

  [Symbol.iterator](): NodeIterator {
    return this;
  }
}
