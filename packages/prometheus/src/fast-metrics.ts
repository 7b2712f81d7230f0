/**
 * Counters and histograms for the per-request path. prom-client validates and hashes the label
 * object on every `inc`/`observe`; at tens of thousands of requests a second that is most of
 * what metrics cost. Here a caller resolves a label set to a cell once and keeps it, so recording
 * is a few additions on plain numbers, and the exposition (the same shape prom-client's own
 * metrics produce) is built only when a scrape reads it. Registered on a prom-client `Registry`
 * like any metric: text exposition, `getMetricsAsJSON` and worker aggregation work unchanged.
 */
import type { Metric, Registry } from 'prom-client';

/** One label set of a {@link FastHistogram}. */
export interface HistogramCell {
  readonly labels: Readonly<Record<string, string>>;
  count: number;
  sum: number;
  /** Observations per bucket, not cumulative; the last one is `+Inf`. */
  readonly buckets: Float64Array;
}

/** One label set of a {@link FastCounter}. */
export interface CounterCell {
  readonly labels: Readonly<Record<string, string>>;
  value: number;
}

/** A sample as prom-client's `get()` reports it. */
export interface Sample {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

/** The exposition of one metric, as prom-client's `get()` returns it. */
export interface MetricSnapshot {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  aggregator: 'sum';
  values: Sample[];
}

/** The label values of `labels` in `names` order, as a map key (slow path only). */
function keyOf(names: readonly string[], labels: Readonly<Record<string, string | number>>): string {
  let key = '';
  for (const n of names) key += `${labels[n] ?? ''}\u0000`;
  return key;
}

abstract class FastMetric<C extends { labels: Readonly<Record<string, string>> }> {
  readonly aggregator = 'sum' as const;
  protected readonly cells = new Map<string, C>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {}

  /** The cell of `labels`, created on first use: look it up once per label set and keep it. */
  cell(labels: Readonly<Record<string, string | number>> = {}): C {
    const key = keyOf(this.labelNames, labels);
    let c = this.cells.get(key);
    if (c === undefined) {
      const own: Record<string, string> = {};
      for (const n of this.labelNames) {
        const v = labels[n];
        if (v === undefined) throw new TypeError(`${this.name}: missing label "${n}"`);
        own[n] = String(v);
      }
      c = this.newCell(own);
      this.cells.set(key, c);
    }
    return c;
  }

  /**
   * Zeroes every label set (prom-client's `registry.resetMetrics()` calls it). The cells stay, so
   * a cell a caller holds keeps counting into the exposition.
   */
  reset(): void {
    for (const c of this.cells.values()) this.zero(c);
  }

  /** Every cell, for metrics derived from this one. */
  allCells(): IterableIterator<C> {
    return this.cells.values();
  }

  protected abstract newCell(labels: Record<string, string>): C;

  protected abstract zero(cell: C): void;
}

/**
 * A counter whose label sets resolve to cells.
 *
 * @example
 * ```ts
 * const hits = new FastCounter('hits_total', 'Hits.', ['kind']);
 * hits.register(registry);
 * const page = hits.cell({ kind: 'page' }); // once
 * page.value++;                             // per event
 * ```
 */
export class FastCounter extends FastMetric<CounterCell> {
  readonly type = 'counter' as const;

  /** Adds `by` (default 1) to the label set `labels`, the way prom-client's `inc` does. */
  inc(labels?: Readonly<Record<string, string | number>> | number, by = 1): void {
    if (typeof labels === 'number') this.cell().value += labels;
    else this.cell(labels).value += by;
  }

  /** The exposition, prom-client's shape. */
  async get(): Promise<MetricSnapshot> {
    const values: Sample[] = [];
    for (const c of this.cells.values()) values.push({ labels: { ...c.labels }, value: c.value });
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** Registers on `registry` (as prom-client's metrics do when built with `registers`). */
  register(registry: Registry): this {
    registry.registerMetric(this as unknown as Metric);
    return this;
  }

  protected newCell(labels: Record<string, string>): CounterCell {
    return { labels, value: 0 };
  }

  protected zero(cell: CounterCell): void {
    cell.value = 0;
  }
}

/**
 * A histogram whose label sets resolve to cells; {@link FastHistogram.record} is the hot path.
 *
 * @example
 * ```ts
 * const d = new FastHistogram('op_duration_seconds', 'Op time.', [], [0.01, 0.1, 1]);
 * d.register(registry);
 * const all = d.cell();
 * d.record(all, 0.042);
 * ```
 */
export class FastHistogram extends FastMetric<HistogramCell> {
  readonly type = 'histogram' as const;
  readonly #bounds: Float64Array;

  constructor(name: string, help: string, labelNames: readonly string[], buckets: readonly number[]) {
    super(name, help, labelNames);
    const sorted = [...buckets].sort((a, b) => a - b);
    if (sorted.length === 0 || sorted.some((b, i) => !Number.isFinite(b) || (i > 0 && b === sorted[i - 1]))) {
      throw new TypeError(`${name}: buckets must be distinct finite numbers, got ${JSON.stringify(buckets)}`);
    }
    this.#bounds = Float64Array.from(sorted);
  }

  /** The upper bounds, ascending (`+Inf` implied). */
  get bounds(): readonly number[] {
    return [...this.#bounds];
  }

  /** Records `value` in `cell`. A value that is not a finite number is ignored. */
  record(cell: HistogramCell, value: number): void {
    if (!Number.isFinite(value)) return;
    const b = this.#bounds;
    let i = 0;
    while (i < b.length && value > b[i]!) i++;
    cell.buckets[i]!++;
    cell.count++;
    cell.sum += value;
  }

  /** prom-client's `observe(labels, value)` / `observe(value)`. */
  observe(labels: Readonly<Record<string, string | number>> | number, value?: number): void {
    if (typeof labels === 'number') this.record(this.cell(), labels);
    else this.record(this.cell(labels), value ?? Number.NaN);
  }

  /** The exposition, prom-client's shape: cumulative `_bucket` samples, then `_sum` and `_count`. */
  async get(): Promise<MetricSnapshot> {
    const values: Sample[] = [];
    const bounds = this.#bounds;
    for (const c of this.cells.values()) {
      let acc = 0;
      for (let i = 0; i <= bounds.length; i++) {
        acc += c.buckets[i]!;
        const le = i < bounds.length ? bounds[i]! : '+Inf';
        values.push({ labels: { le, ...c.labels }, value: acc, metricName: `${this.name}_bucket` });
      }
      values.push({ labels: { ...c.labels }, value: c.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { ...c.labels }, value: c.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** Registers on `registry`. */
  register(registry: Registry): this {
    registry.registerMetric(this as unknown as Metric);
    return this;
  }

  protected newCell(labels: Record<string, string>): HistogramCell {
    return { labels, count: 0, sum: 0, buckets: new Float64Array(this.#bounds.length + 1) };
  }

  protected zero(cell: HistogramCell): void {
    cell.count = 0;
    cell.sum = 0;
    cell.buckets.fill(0);
  }
}
