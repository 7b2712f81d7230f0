/**
 * The scrape endpoint in a single-process server: the group is `single`, so the aggregated view
 * is this process's registry, and the answerer lives exactly as long as the service.
 */
import { processGroup } from '@pingora-ts/core';
import { closeAll } from '@pingora-ts/test-utils';
import { Counter, Gauge, Registry } from 'prom-client';
import { afterEach, expect, it } from 'vitest';
import { ProcessGroupState } from '../../core/src/server/process-group.js';
import { prometheusHttpService } from '../src/index.js';
import { startMetrics } from './helpers.js';
import { scrape } from './scrape.js';

afterEach(closeAll);

function registryWith(value: number): Registry {
  const registry = new Registry();
  new Counter({ name: 'one_total', help: 'a counter', labelNames: ['k'], registers: [registry] }).inc(
    { k: 'v' },
    value,
  );
  new Gauge({ name: 'level', help: 'a gauge', aggregator: 'max', registers: [registry] }).set(value);
  return registry;
}

it('in a single process, the aggregated scrape is the registry itself', async () => {
  expect(processGroup.role).toBe('single');
  const registry = registryWith(3);
  const port = await startMetrics(registry);
  const text = (await scrape(port)).body.toString();
  expect(text).toBe(await registry.metrics());
  expect(text).toContain('one_total{k="v"} 3');
  expect(await processGroup.gather('pingora-ts:prometheus')).toHaveLength(1);
});

it('stops answering the group when the service stops; aggregate: false never answers', async () => {
  const group = new ProcessGroupState();
  await startMetrics(registryWith(1), { group });
  expect(await group.gather('pingora-ts:prometheus')).toHaveLength(1);
  await closeAll();
  expect(await group.gather('pingora-ts:prometheus')).toEqual([]);

  const port = await startMetrics(registryWith(2), { group, aggregate: false });
  expect(await group.gather('pingora-ts:prometheus')).toEqual([]);
  expect((await scrape(port)).body.toString()).toContain('one_total{k="v"} 2');
});

it('refuses a second registry on a topic already answered, and bad timeouts', async () => {
  const group = new ProcessGroupState();
  const registry = registryWith(1);
  await startMetrics(registry, { group });
  // The same registry twice (two listeners' worth of services) is fine.
  await startMetrics(registry, { group });
  expect(() => prometheusHttpService({ registry: registryWith(2), group })).toThrow(/its own `topic`/);
  const port = await startMetrics(registryWith(5), { group, topic: 'other' });
  expect((await scrape(port)).body.toString()).toContain('one_total{k="v"} 5');
  expect(() => prometheusHttpService({ gatherTimeoutMs: 0 })).toThrow(RangeError);
});
