/**
 * Gauges read when they are scraped: pool sizes, open connections and backend health already
 * exist as plain numbers in the objects that own them, so nothing is recorded per request; the
 * gauge's `collect` callback reads every registered source when a scrape asks.
 */
import { Gauge, type Registry } from 'prom-client';

/** Adds one sample; samples with equal labels add up (two proxies' pools, for instance). */
export type Emit<L extends string> = (labels: Record<L, string>, value: number) => void;

/** A reader of current values, called on each scrape. */
export type GaugeSource<L extends string> = (emit: Emit<L>) => void;

/** How gauges of several processes combine (prom-client's aggregator names). */
export type Aggregator = 'sum' | 'first' | 'min' | 'max' | 'average' | 'omit';

/** One gauge on one registry and the sources it reads. */
export interface ScrapedGauge<L extends string> {
  readonly gauge: Gauge<L>;
  /** Reads `source` on every scrape until the returned function is called. */
  add(source: GaugeSource<L>): () => void;
}

const byRegistry = new WeakMap<Registry, Map<string, ScrapedGauge<string>>>();

/**
 * The gauge `name` on `registry`, created on first use and shared by later callers (two proxies
 * in one process feed one gauge). A source that throws is skipped for that scrape, so one broken
 * reader cannot fail the whole scrape.
 */
export function scrapedGauge<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
  aggregator: Aggregator,
): ScrapedGauge<L> {
  let gauges = byRegistry.get(registry);
  if (gauges === undefined) {
    gauges = new Map();
    byRegistry.set(registry, gauges);
  }
  const found = gauges.get(name);
  if (found !== undefined) return found as unknown as ScrapedGauge<L>;
  const sources = new Set<GaugeSource<L>>();
  const gauge: Gauge<L> = new Gauge<L>({
    name,
    help,
    labelNames,
    aggregator,
    registers: [registry],
    collect() {
      // Label sets of sources that are gone (a removed backend) must disappear, not stay frozen.
      gauge.reset();
      const emit: Emit<L> = (labels, value) => gauge.inc(labels, value);
      for (const source of sources) {
        try {
          source(emit);
        } catch {
          // Skipped for this scrape; the other sources still report.
        }
      }
    },
  });
  const made: ScrapedGauge<L> = {
    gauge,
    add(source) {
      sources.add(source);
      return () => {
        sources.delete(source);
      };
    },
  };
  gauges.set(name, made as unknown as ScrapedGauge<string>);
  return made;
}
