/**
 * Aggregation across real processes: the test process is the main process of a group and two or
 * three forked Node processes are its workers, talking over their IPC channels exactly as a
 * multi-process server's do.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { closeAll } from '@pingora-ts/test-utils';
import { Counter, Gauge, Registry } from 'prom-client';
import { afterEach, expect, it } from 'vitest';
import { ProcessGroupState } from '../../core/src/server/process-group.js';
import { startMetrics } from './helpers.js';
import { scrape } from './scrape.js';

const fixture = fileURLToPath(new URL('./fixtures/metrics-worker.ts', import.meta.url));
const children: ChildProcess[] = [];

afterEach(async () => {
  await closeAll();
  for (const c of children.splice(0)) {
    if (c.exitCode === null && c.signalCode === null) {
      const exited = once(c, 'exit');
      c.kill('SIGKILL');
      await exited;
    }
  }
});

/** Forks worker `id` and waits until it says it is ready (its answerer is registered by then). */
async function startWorker(group: ProcessGroupState, id: number, mode = ''): Promise<ChildProcess> {
  const child = fork(fixture, [String(id), mode], {
    execArgv: ['--import', 'tsx', '--conditions=@pingora-ts/source'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.push(child);
  const ready = new Promise<void>((resolve, reject) => {
    child.on('message', (m: { ready?: number }) => {
      if (m.ready === id) resolve();
    });
    child.once('exit', (code) => reject(new Error(`worker ${id} exited (${code}) before it was ready`)));
  });
  group.attachWorker(id, child);
  await ready;
  return child;
}

function parentRegistry(): Registry {
  const registry = new Registry();
  new Counter({
    name: 'fixture_requests_total',
    help: 'requests',
    labelNames: ['code'],
    registers: [registry],
  })
    .labels('200')
    .inc(1);
  new Gauge({
    name: 'fixture_healthy',
    help: 'max gauge',
    labelNames: ['backend'],
    aggregator: 'max',
    registers: [registry],
  })
    .labels('a')
    .set(0);
  return registry;
}

it('a scrape of the main process shows the sum over every worker, and gauges by their own rule', async () => {
  const group = new ProcessGroupState();
  group.becomeMain();
  await Promise.all([startWorker(group, 0), startWorker(group, 1)]);
  // Nothing hangs here: a generous wait only matters on a machine too busy to answer in 2 s.
  const port = await startMetrics(parentRegistry(), { group, gatherTimeoutMs: 30_000 });

  const text = (await scrape(port)).body.toString();
  // 1 (main) + 10 (worker 0) + 20 (worker 1).
  expect(text).toContain('fixture_requests_total{code="200"} 31');
  // Worker 0 observed 0.05 and 0.5, worker 1 0.05 and 1.0: four samples, three under 1 s.
  expect(text).toContain('fixture_duration_seconds_count 4');
  expect(text).toContain('fixture_duration_seconds_bucket{le="0.1"} 2');
  expect(text).toContain('fixture_duration_seconds_bucket{le="1"} 4');
  expect(text).toContain('fixture_duration_seconds_sum 1.6');
  // Summed gauge: 2 + 3; the 'max' gauge: max(0, 0, 1), not 1 summed with 0s.
  expect(text).toContain('fixture_open 5');
  expect(text).toContain('fixture_healthy{backend="a"} 1');
  expect(text.match(/# TYPE fixture_requests_total counter/g)).toHaveLength(1);
});

it('a worker scraping the group sees main and every worker, and a worker that never answers is left out', async () => {
  const group = new ProcessGroupState();
  group.becomeMain();
  const [w0] = await Promise.all([startWorker(group, 0), startWorker(group, 1, 'hang')]);
  // The main process answers too, as a metrics service built there would. The wait bounds the
  // test's length (the hanging worker costs all of it) and leaves a busy machine time to answer.
  const port = await startMetrics(parentRegistry(), { group, gatherTimeoutMs: 6_000 });

  const fromMain = (await scrape(port)).body.toString();
  expect(fromMain).toContain('fixture_requests_total{code="200"} 11');

  const reply = new Promise<string>((resolve) => {
    w0!.on('message', (m: { scraped?: string }) => {
      if (m.scraped !== undefined) resolve(m.scraped);
    });
  });
  w0!.send({ scrape: 6_000 });
  const fromWorker = await reply;
  // Main (1) + worker 0 (10): the hanging worker 1 must not cost the answers that did arrive.
  expect(fromWorker).toContain('fixture_requests_total{code="200"} 11');
  expect(fromWorker).toContain('fixture_healthy{backend="a"} 0');
});
