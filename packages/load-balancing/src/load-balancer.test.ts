import { ShutdownController } from '@pingora-ts/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { memoryLogger } from '../test/helpers.js';
import { Backend } from './backend.js';
import { Backends } from './backends.js';
import { Static } from './discovery.js';
import type { HealthCheck } from './health-check.js';
import { LoadBalancer } from './load-balancer.js';
import { LeastConnections } from './selection/least-connections.js';
import type { BackendSelectionBuilder } from './selection/selection.js';
import { RoundRobin } from './selection/weighted.js';

const addrs = ['10.0.0.1:80', '10.0.0.2:80', '10.0.0.3:80'];

/** A selection that yields a fixed sequence of addresses, to test select's iteration rules. */
function sequence(order: string[]): BackendSelectionBuilder<{ iter(): { next(): Backend | undefined } }> {
  return {
    build: (backends) => ({
      iter() {
        let i = 0;
        return {
          next() {
            const addr = order[i++];
            return backends.find((b) => b.addr === addr);
          },
        };
      },
    }),
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('LoadBalancer.select', () => {
  it('tryFromIter is ready at once; round robin over the sorted backends', () => {
    const lb = LoadBalancer.tryFromIter(RoundRobin, [...addrs].reverse());
    expect(Array.from({ length: 4 }, () => lb.select('', 256)?.addr)).toEqual([...addrs, addrs[0]]);
  });

  it('skips backends that are not ready; undefined when none is', () => {
    const lb = LoadBalancer.tryFromIter(RoundRobin, addrs);
    lb.backends().setEnable(new Backend(addrs[1]!), false);
    const picks = Array.from({ length: 6 }, () => lb.select('', 256)?.addr);
    expect(picks).not.toContain(addrs[1]);
    for (const a of addrs) lb.backends().setEnable(new Backend(a), false);
    expect(lb.select('', 256)).toBeUndefined();
  });

  it('UniqueIterator: repeats are skipped and count as steps; at most maxIterations candidates', () => {
    const [a, b, c] = addrs as [string, string, string];
    const lb = LoadBalancer.tryFromIter(sequence([a, a, b, b, c]), addrs);
    const asked: string[] = [];
    const accept = (x: Backend) => {
      asked.push(x.addr);
      return x.addr === c;
    };
    expect(lb.selectWith('', 10, accept)?.addr).toBe(c);
    expect(asked).toEqual([a, b, c]);
    expect(lb.selectWith('', 4, () => false)).toBeUndefined();
    asked.length = 0;
    expect(lb.selectWith('', 4, accept)).toBeUndefined(); // a a b b: c is step 5
    expect(asked).toEqual([a, b]);
    expect(lb.selectWith('', 0, () => true)).toBeUndefined();
  });

  it('selectWith passes the health verdict and lets the caller overrule it', () => {
    const lb = LoadBalancer.tryFromIter(RoundRobin, addrs);
    for (const a of addrs) lb.backends().setEnable(new Backend(a), false);
    const verdicts: boolean[] = [];
    const b = lb.selectWith('', 256, (_b, healthy) => {
      verdicts.push(healthy);
      return true;
    });
    expect(b?.addr).toBe(addrs[0]);
    expect(verdicts).toEqual([false]);
  });

  it('acquire counts in-flight requests until released; LeastConnections balances on them', () => {
    const lb = LoadBalancer.tryFromIter(LeastConnections, addrs);
    const leases = Array.from({ length: 6 }, () => lb.acquire('', 256)!);
    expect(addrs.map((a) => lb.inflight.get(new Backend(a)))).toEqual([2, 2, 2]);
    leases[1]!.release();
    leases[4]!.release();
    expect(lb.acquire('', 256)?.backend.addr).toBe(addrs[1]);
    expect(lb.acquire('', 256, () => false)).toBeUndefined();
  });

  it('update rebuilds the selection only when the set changed', async () => {
    const discovery = Static.tryFromIter(addrs.slice(0, 2));
    const lb = LoadBalancer.fromBackends(RoundRobin, new Backends(discovery, { logger: memoryLogger() }));
    expect(lb.select('', 256)).toBeUndefined(); // fromBackends: nothing until update()
    await lb.update();
    const sel = lb.selector;
    expect(lb.lastUpdateTiming()).toBeTypeOf('number');
    await lb.update();
    expect(lb.selector).toBe(sel);
    discovery.add(new Backend(addrs[2]!));
    await lb.update();
    expect(lb.selector).not.toBe(sel);
    expect(lb.selector.backends.map((b) => b.addr)).toEqual(addrs);
  });
});

describe('LoadBalancer as a background service (fake timers)', () => {
  function flaky(downAfterMs: number, failure: number) {
    const times: number[] = [];
    const check: HealthCheck = {
      async check() {
        times.push(Date.now());
        if (Date.now() >= downAfterMs) throw new Error('refused');
      },
      healthThreshold: (ok) => (ok ? 1 : failure),
    };
    return { check, times };
  }

  it('a backend that goes down is marked down within consecutiveFailure × frequency', async () => {
    vi.useFakeTimers({ now: 0 });
    const lb = LoadBalancer.tryFromIter(RoundRobin, addrs.slice(0, 1));
    lb.logger = memoryLogger();
    const { check, times } = flaky(2_500, 3);
    lb.setHealthCheck(check);
    lb.healthCheckFrequency = 1_000;
    const ctl = new ShutdownController();
    const done = lb.start(ctl.watch);
    let markedDownAt: number | undefined;
    lb.backends().onHealthChange((u) => {
      if (!u.healthy) markedDownAt = Date.now();
    });
    for (let t = 0; t < 10_000 && markedDownAt === undefined; t += 100)
      await vi.advanceTimersByTimeAsync(100);
    expect(times.slice(0, 6)).toEqual([0, 1_000, 2_000, 3_000, 4_000, 5_000]);
    // First failing check at 3 000; the third consecutive one flips it.
    expect(markedDownAt).toBe(5_000);
    expect(markedDownAt! - 2_500).toBeLessThanOrEqual(3 * 1_000);
    expect(lb.select('', 256)).toBeUndefined();
    ctl.shutdown(true);
    await done;
  });

  it('runs discovery every updateFrequency and the check every healthCheckFrequency', async () => {
    vi.useFakeTimers({ now: 0 });
    let discovered = 0;
    const backends = new Backends(
      {
        discover: () => {
          discovered++;
          return { backends: [new Backend(addrs[discovered % 3]!)] };
        },
      },
      { logger: memoryLogger() },
    );
    const lb = LoadBalancer.fromBackends(RoundRobin, backends);
    const { check, times } = flaky(Number.POSITIVE_INFINITY, 1);
    lb.setHealthCheck(check);
    lb.updateFrequency = 5_000;
    lb.healthCheckFrequency = 2_000;
    const ctl = new ShutdownController();
    const done = lb.start(ctl.watch);
    await vi.advanceTimersByTimeAsync(10_500);
    expect(discovered).toBe(3); // 0, 5 000, 10 000
    expect(times).toEqual([0, 2_000, 4_000, 6_000, 8_000, 10_000]);
    expect(lb.select('', 256)?.addr).toBe(addrs[0]);
    ctl.shutdown(true);
    await done;
    expect(vi.getTimerCount()).toBe(0); // no sleeping timer left behind
  });

  it('a failed discovery is logged and retried; the previous set stays', async () => {
    vi.useFakeTimers({ now: 0 });
    let calls = 0;
    const logger = memoryLogger();
    const backends = new Backends(
      {
        discover: () => {
          if (calls++ === 1) throw new Error('registry down');
          return { backends: [new Backend(addrs[0]!)] };
        },
      },
      { logger },
    );
    const lb = LoadBalancer.fromBackends(RoundRobin, backends);
    lb.updateFrequency = 1_000;
    const ctl = new ShutdownController();
    const done = lb.start(ctl.watch);
    await vi.advanceTimersByTimeAsync(2_100);
    expect(calls).toBe(3);
    expect(lb.select('', 256)?.addr).toBe(addrs[0]);
    expect(logger.lines.some((l) => l.level === 'warn' && l.msg.includes('service discovery failed'))).toBe(
      true,
    );
    ctl.shutdown(true);
    await done;
  });

  it('with neither frequency set it runs one round and returns', async () => {
    const lb = LoadBalancer.tryFromIter(RoundRobin, addrs);
    let checks = 0;
    lb.setHealthCheck({ check: async () => void checks++, healthThreshold: () => 1 });
    await lb.start(new ShutdownController().watch);
    expect(checks).toBe(3);
  });
});
