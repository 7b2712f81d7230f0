/**
 * The cell-based counter and histogram expose exactly what prom-client's own would for the same
 * observations, so scrapers, `getMetricsAsJSON` and worker aggregation cannot tell them apart.
 */
import { AggregatorRegistry, Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FastCounter, FastHistogram, ProxyMetrics } from '../src/index.js';

const BUCKETS = [0.005, 0.01, 0.1, 1, 10];
// Bucket edges on purpose: a value equal to a bound belongs to that bound's bucket.
const OBSERVED = [0, 0.005, 0.0051, 0.01, 0.5, 1, 10, 11, 1e9];

describe('FastHistogram', () => {
  it('exposes the same text as a prom-client Histogram', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const fast = new FastHistogram('d_seconds', 'durations', ['route'], BUCKETS).register(ours);
    const slow = new Histogram({
      name: 'd_seconds',
      help: 'durations',
      labelNames: ['route'],
      buckets: BUCKETS,
      registers: [theirs],
    });
    const a = fast.cell({ route: 'a' });
    for (const v of OBSERVED) {
      fast.record(a, v);
      slow.observe({ route: 'a' }, v);
    }
    fast.observe({ route: 'b' }, 0.2);
    slow.observe({ route: 'b' }, 0.2);
    expect(await ours.metrics()).toBe(await theirs.metrics());
    // And they aggregate alike across processes.
    const twice = async (r: Registry) => {
      const json = await r.getMetricsAsJSON();
      return AggregatorRegistry.aggregate([json, json]).metrics();
    };
    expect(await twice(ours)).toBe(await twice(theirs));
  });

  it('ignores values that are not finite numbers and refuses bad buckets', async () => {
    const h = new FastHistogram('x_seconds', 'x', [], [1]);
    const c = h.cell();
    h.record(c, Number.NaN);
    h.record(c, Number.POSITIVE_INFINITY);
    expect(c.count).toBe(0);
    expect(() => new FastHistogram('y', 'y', [], [])).toThrow(/buckets/);
    expect(() => new FastHistogram('y', 'y', [], [1, 1])).toThrow(/buckets/);
    expect(() => h.cell({ nope: 'x' })).not.toThrow();
    expect(() => new FastHistogram('z', 'z', ['a'], [1]).cell({})).toThrow(/missing label "a"/);
  });

  it('reset zeroes the cells callers hold, which keep counting', async () => {
    const registry = new Registry();
    const h = new FastHistogram('r_seconds', 'r', [], [1]).register(registry);
    const c = h.cell();
    h.record(c, 0.5);
    registry.resetMetrics();
    h.record(c, 2);
    const text = await registry.metrics();
    expect(text).toContain('r_seconds_bucket{le="1"} 0');
    expect(text).toContain('r_seconds_count 1');
  });
});

describe('FastCounter', () => {
  it('exposes the same text as a prom-client Counter', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const fast = new FastCounter('hits_total', 'hits', ['kind']).register(ours);
    const slow = new Counter({ name: 'hits_total', help: 'hits', labelNames: ['kind'], registers: [theirs] });
    fast.inc({ kind: 'a' });
    fast.cell({ kind: 'a' }).value += 2;
    fast.inc({ kind: 'b' }, 5);
    slow.inc({ kind: 'a' }, 3);
    slow.inc({ kind: 'b' }, 5);
    expect(await ours.metrics()).toBe(await theirs.metrics());
    const plain = new FastCounter('n_total', 'n', []);
    plain.inc(4);
    expect((await plain.get()).values).toEqual([{ labels: {}, value: 4 }]);
  });
});

describe('ProxyMetrics labels', () => {
  it('reports methods outside the standard set as _OTHER, and derives status classes from the histogram', async () => {
    const registry = new Registry();
    const metrics = new ProxyMetrics({ registry });
    const record = (method: string, status: number) =>
      metrics.observeRecord({ method, status, total: 3, retries: 0 } as never, '2');
    record('GET', 200);
    record('GET', 204);
    record('BREW', 418);
    record('SPY', 0);
    const text = await registry.metrics();
    expect(text).toContain(
      'http_server_requests_total{http_request_method="GET",http_response_status_class="2xx",network_protocol_version="2"} 2',
    );
    expect(text).toContain(
      'http_server_requests_total{http_request_method="_OTHER",http_response_status_class="4xx",network_protocol_version="2"} 1',
    );
    expect(text).toContain(
      'http_server_requests_total{http_request_method="_OTHER",http_response_status_class="none",network_protocol_version="2"} 1',
    );
    expect(text).toContain(
      'http_server_request_duration_seconds_bucket{le="0.005",http_request_method="_OTHER",http_response_status_code="418",network_protocol_version="2"} 1',
    );
    expect(text).not.toContain('BREW');
  });
});
