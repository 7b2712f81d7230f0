/**
 * `Weighted`: Pingora's weighted selection. The sorted backends are kept with a pick list in
 * which backend `i` appears `weight` times. The first pick of a request is
 * `list[index(key) mod list.length]`, so weights shape the traffic; every fallback pick is
 * `backends[index mod backends.length]` with `index = next(le_bytes(index))`, unweighted, so a
 * heavy backend that is down does not absorb its own fallbacks. `RoundRobin`, `Random` and
 * `FNVHash` are this class with Pingora's three algorithms.
 */
import type { Backend } from '../backend.js';
import {
  FnvAlgorithm,
  RandomAlgorithm,
  RoundRobinAlgorithm,
  type SelectionAlgorithm,
  type U64,
  u64LeBytes,
  u64Mod,
} from './algorithms.js';
import type { BackendIter, BackendSelection, BackendSelectionBuilder, SelectionKey } from './selection.js';

/**
 * Weighted selection driven by a {@link SelectionAlgorithm}.
 *
 * @example
 * ```ts
 * // A custom algorithm: hash the key with your own function.
 * const Crc: BackendSelectionBuilder<Weighted> = Weighted.withAlgorithm(() => ({
 *   next(key, out) {
 *     out.hi = 0;
 *     out.lo = crc32(key);
 *   },
 * }));
 * const lb = LoadBalancer.tryFromIter(Crc, addrs);
 * ```
 */
export class Weighted implements BackendSelection {
  /** The backends, sorted. */
  readonly backends: readonly Backend[];
  /** Index into `backends`, each repeated `weight` times. */
  readonly weighted: Uint32Array;
  readonly algorithm: SelectionAlgorithm;

  constructor(backends: readonly Backend[], algorithm: SelectionAlgorithm) {
    this.backends = backends;
    this.algorithm = algorithm;
    let total = 0;
    for (const b of backends) total += b.weight;
    const weighted = new Uint32Array(total);
    let at = 0;
    for (let i = 0; i < backends.length; i++) {
      const end = at + backends[i]!.weight;
      weighted.fill(i, at, end);
      at = end;
    }
    this.weighted = weighted;
  }

  /** A builder of weighted selections with a fresh algorithm per build. */
  static withAlgorithm(algorithm: () => SelectionAlgorithm): BackendSelectionBuilder<Weighted> {
    return { build: (backends) => new Weighted(backends, algorithm()) };
  }

  iter(key: SelectionKey): BackendIter {
    return new WeightedIterator(this, key);
  }
}

/** The iterator of a {@link Weighted} selection; it is its own u64 state. */
class WeightedIterator implements BackendIter, U64 {
  hi = 0;
  lo = 0;
  #first = true;
  readonly #sel: Weighted;

  constructor(sel: Weighted, key: SelectionKey) {
    this.#sel = sel;
    sel.algorithm.next(key, this);
  }

  next(): Backend | undefined {
    const sel = this.#sel;
    const backends = sel.backends;
    if (backends.length === 0) return undefined;
    if (this.#first) {
      this.#first = false;
      const w = sel.weighted;
      // All weights 0 (Pingora would divide by zero): fall through to the unweighted pick.
      if (w.length > 0) return backends[w[u64Mod(this.hi, this.lo, w.length)]!];
    } else {
      const a = sel.algorithm;
      if (a.nextU64 !== undefined) a.nextU64(this);
      else a.next(u64LeBytes(this), this);
    }
    return backends[u64Mod(this.hi, this.lo, backends.length)];
  }
}

/**
 * Weighted round robin (Pingora's `RoundRobin`): one counter per build, advanced by every pick,
 * fallbacks included. Keys are ignored.
 *
 * @example
 * ```ts
 * const lb = LoadBalancer.tryFromIter(RoundRobin, ['127.0.0.1:3001', '127.0.0.1:3002']);
 * lb.select('', 256); // 127.0.0.1:3001, then :3002, then :3001 …
 * ```
 */
export class RoundRobin extends Weighted {
  static build(backends: readonly Backend[]): RoundRobin {
    return new RoundRobin(backends, new RoundRobinAlgorithm());
  }
}

/** Weighted random (Pingora's `Random`). Keys are ignored. */
export class Random extends Weighted {
  static build(backends: readonly Backend[]): Random {
    return new Random(backends, new RandomAlgorithm());
  }
}

/**
 * Weighted hashing on the key with 64-bit FNV-1a (Pingora's `FNVHash`): a key sticks to a backend
 * while the set is unchanged. Use `Consistent` when the set changes and keys should mostly stay.
 */
export class FNVHash extends Weighted {
  static build(backends: readonly Backend[]): FNVHash {
    return new FNVHash(backends, new FnvAlgorithm());
  }
}
