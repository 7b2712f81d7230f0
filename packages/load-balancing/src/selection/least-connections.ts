/**
 * `LeastConnections`: the backend with the fewest in-flight requests per unit of weight (Pingora
 * has no such algorithm; Node proxy users ask for it because request durations vary). It reads
 * the counts `LoadBalancer.acquire` keeps, so it only balances requests that hold a lease.
 */
import type { Backend } from '../backend.js';
import type { InflightCell } from '../inflight.js';
import type { BackendIter, BackendSelection, SelectionContext, SelectionKey } from './selection.js';

/** Whether load `ca / wa` is below `cb / wb`; weight 0 counts as infinitely loaded. */
function lighter(ca: number, wa: number, cb: number, wb: number): boolean {
  if (wa === 0 || wb === 0) return wa !== 0 || (wb === 0 && ca < cb);
  return ca * wb < cb * wa;
}

/**
 * Weighted least connections. The first pick is the backend with the lowest `inflight / weight`;
 * ties are broken by a rotating start, so idle backends share traffic round robin. Fallbacks are
 * the next lightest backends, each once. Keys are ignored. Each pick scans every backend, which
 * is cheap for tens of backends (see the README's benchmark for 1 000).
 *
 * @example
 * ```ts
 * const lb = LoadBalancer.tryFromIter(LeastConnections, addrs);
 * const proxy: ProxyHttp<{ lease?: Lease }> = {
 *   newCtx: () => ({}),
 *   upstreamPeer(_session, ctx) {
 *     ctx.lease?.release(); // a retry: give the previous backend back
 *     ctx.lease = lb.acquire('', 256);
 *     if (ctx.lease === undefined) throw PingoraError.explain(ErrorType.ConnectNoRoute, 'no backend');
 *     return new HttpPeer(ctx.lease.backend.address, false, '');
 *   },
 *   logging(_session, _error, ctx) {
 *     ctx.lease?.release();
 *   },
 * };
 * ```
 */
export class LeastConnections implements BackendSelection {
  readonly backends: readonly Backend[];
  /** `cells[i]` counts requests on `backends[i]`. */
  readonly cells: readonly InflightCell[];
  /** `weights[i]` is `backends[i].weight`, in a typed array for the scan. */
  readonly weights: Float64Array;
  /** No backend has weight 0: the scan can cross-multiply without special cases. */
  readonly allWeighted: boolean;
  #rotation = 0;

  constructor(backends: readonly Backend[], context: SelectionContext) {
    this.backends = backends;
    this.cells = backends.map((b) => context.inflight.cell(b));
    this.weights = Float64Array.from(backends, (b) => b.weight);
    this.allWeighted = this.weights.every((w) => w > 0);
  }

  static build(backends: readonly Backend[], context: SelectionContext): LeastConnections {
    return new LeastConnections(backends, context);
  }

  iter(_key: SelectionKey): BackendIter {
    const n = this.backends.length;
    const start = n === 0 ? 0 : this.#rotation++ % n;
    if (this.#rotation >= 0x3fffffff) this.#rotation = 0;
    return new LeastIterator(this, start);
  }
}

class LeastIterator implements BackendIter {
  #taken: Uint8Array | undefined;
  #first = -1;

  constructor(
    private readonly sel: LeastConnections,
    private readonly start: number,
  ) {}

  next(): Backend | undefined {
    const { backends, cells, weights } = this.sel;
    const n = backends.length;
    if (n === 0) return undefined;
    let taken = this.#taken;
    if (this.#first < 0 && this.sel.allWeighted) {
      // The hot path: the first pick, every weight positive.
      const best = this.#scan(cells, weights, n);
      this.#first = best;
      return backends[best];
    }
    if (this.#first >= 0 && taken === undefined) {
      taken = new Uint8Array(n);
      taken[this.#first] = 1;
      this.#taken = taken;
    }
    let best = -1;
    let bestCount = 0;
    let bestWeight = 0;
    for (let j = 0; j < n; j++) {
      let i = this.start + j;
      if (i >= n) i -= n;
      if (taken !== undefined && taken[i] === 1) continue;
      const c = cells[i]!.count;
      const w = backends[i]!.weight;
      if (best < 0 || lighter(c, w, bestCount, bestWeight)) {
        best = i;
        bestCount = c;
        bestWeight = w;
      }
    }
    if (best < 0) return undefined;
    if (taken === undefined) this.#first = best;
    else taken[best] = 1;
    return backends[best];
  }

  /** Index of the lowest count/weight from `start`, wrapping; the first of equals wins. */
  #scan(cells: readonly InflightCell[], weights: Float64Array, n: number): number {
    const start = this.start;
    let best = start;
    let bestCount = cells[start]!.count;
    let bestWeight = weights[start]!;
    for (let i = start + 1; i < n; i++) {
      const c = cells[i]!.count;
      const w = weights[i]!;
      if (c * bestWeight < bestCount * w) {
        best = i;
        bestCount = c;
        bestWeight = w;
      }
    }
    for (let i = 0; i < start; i++) {
      const c = cells[i]!.count;
      const w = weights[i]!;
      if (c * bestWeight < bestCount * w) {
        best = i;
        bestCount = c;
        bestWeight = w;
      }
    }
    return best;
  }
}
