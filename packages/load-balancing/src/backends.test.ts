import { MessageChannel } from 'node:worker_threads';
import { ErrorType, PingoraError } from '@pingora-ts/error';
import { describe, expect, it } from 'vitest';
import { memoryLogger } from '../test/helpers.js';
import { Backend } from './backend.js';
import { Backends } from './backends.js';
import { Static } from './discovery.js';
import type { HealthUpdate } from './health.js';
import type { HealthCheck } from './health-check.js';

/** A health check whose verdict per address the test sets. */
function scripted(down: Set<string>, thresholds = { success: 1, failure: 1 }) {
  const calls: string[] = [];
  const changes: string[] = [];
  const check: HealthCheck = {
    async check(b) {
      calls.push(b.addr);
      if (down.has(b.addr)) throw PingoraError.explain(ErrorType.ConnectRefused, `${b.addr} refused`).asUp();
    },
    healthThreshold: (ok) => (ok ? thresholds.success : thresholds.failure),
    healthStatusChange: (b, healthy) => {
      changes.push(`${b.addr} ${healthy}`);
    },
  };
  return { check, calls, changes };
}

const A = '10.0.0.1:80';
const B = '10.0.0.2:80';

describe('Backends.update', () => {
  it('swaps and calls back only when the set changed; health carries over by hashKey', async () => {
    const discovery = Static.tryFromIter([A, B]);
    const backends = new Backends(discovery, { logger: memoryLogger() });
    const seen: string[][] = [];
    expect(await backends.update((set) => seen.push(set.map((b) => b.addr)))).toBe(true);
    expect(await backends.update((set) => seen.push(set.map((b) => b.addr)))).toBe(false);
    expect(seen).toEqual([[A, B]]);

    const down = new Set([A]);
    backends.setHealthCheck(scripted(down).check);
    await backends.runHealthCheck();
    expect(backends.ready(new Backend(A))).toBe(false);

    discovery.add(new Backend('10.0.0.3:80'));
    expect(await backends.update()).toBe(true);
    expect(backends.ready(new Backend(A))).toBe(false); // carried over
    expect(backends.ready(new Backend('10.0.0.3:80'))).toBe(true); // new: starts healthy
    expect(backends.getBackends().map((b) => b.addr)).toEqual([A, B, '10.0.0.3:80']);
    expect(Object.isFrozen(backends.getBackends())).toBe(true);
  });

  it('a weight change is a different backend (fresh health)', async () => {
    const discovery = Static.tryFromIter([A]);
    const backends = new Backends(discovery, { logger: memoryLogger() });
    await backends.update();
    backends.setHealthCheck(scripted(new Set([A])).check);
    await backends.runHealthCheck();
    discovery.set([new Backend(A, 5)]);
    await backends.update();
    expect(backends.ready(new Backend(A, 5))).toBe(true);
  });

  it('applies enablement from discovery whether or not the set changed', async () => {
    const enablement = new Map<string, boolean>([[new Backend(B).hashKey(), false]]);
    const backends = new Backends(
      { discover: () => ({ backends: [new Backend(A), new Backend(B)], enablement }) },
      { logger: memoryLogger() },
    );
    await backends.update();
    expect(backends.ready(new Backend(B))).toBe(false);
    enablement.set(new Backend(B).hashKey(), true);
    expect(await backends.update()).toBe(false);
    expect(backends.ready(new Backend(B))).toBe(true);
  });

  it('ready: unknown backends are ready only without a health check; setEnable overrides health', async () => {
    const backends = new Backends(Static.tryFromIter([A]), { logger: memoryLogger() });
    await backends.update();
    expect(backends.ready(new Backend('10.9.9.9:1'))).toBe(true);
    backends.setHealthCheck(scripted(new Set()).check);
    expect(backends.ready(new Backend('10.9.9.9:1'))).toBe(false);
    backends.setEnable(new Backend(A), false);
    expect(backends.ready(new Backend(A))).toBe(false);
    expect(backends.healthOf(new Backend(A))).toMatchObject({ healthy: true, enabled: false });
    backends.setEnable(new Backend('10.9.9.9:1'), false); // unknown: no-op
    backends.setEnable(new Backend(A), true);
    expect(backends.ready(new Backend(A))).toBe(true);
  });

  it('a failing discovery rejects and keeps the current set', async () => {
    let fail = false;
    const backends = new Backends(
      {
        discover: async () => {
          if (fail) throw new Error('registry down');
          return { backends: [new Backend(A)] };
        },
      },
      { logger: memoryLogger() },
    );
    await backends.update();
    fail = true;
    await expect(backends.update()).rejects.toThrow('registry down');
    expect(backends.getBackends().map((b) => b.addr)).toEqual([A]);
  });
});

describe('Backends.runHealthCheck', () => {
  it('flips after the thresholds, logs Pingora lines, calls healthStatusChange', async () => {
    const logger = memoryLogger();
    const backends = new Backends(Static.tryFromIter([A, B]), { logger });
    await backends.update();
    const down = new Set([A]);
    const s = scripted(down, { success: 2, failure: 3 });
    backends.setHealthCheck(s.check);
    for (let i = 0; i < 2; i++) await backends.runHealthCheck();
    expect(backends.ready(new Backend(A))).toBe(true);
    await backends.runHealthCheck();
    expect(backends.ready(new Backend(A))).toBe(false);
    expect(s.calls).toEqual([A, B, A, B, A, B]);
    const warn = logger.lines.filter((l) => l.level === 'warn');
    expect(warn).toHaveLength(1);
    expect(warn[0]!.msg).toMatch(
      /^Backend \{ addr: 10\.0\.0\.1:80, weight: 1 \} becomes unhealthy, .*ConnectRefused.*refused/,
    );
    down.clear();
    await backends.runHealthCheck();
    expect(backends.ready(new Backend(A))).toBe(false);
    await backends.runHealthCheck();
    expect(backends.ready(new Backend(A))).toBe(true);
    expect(logger.lines.filter((l) => l.level === 'info').map((l) => l.msg)).toEqual([
      'Backend { addr: 10.0.0.1:80, weight: 1 } becomes healthy',
    ]);
    expect(s.changes).toEqual([`${A} false`, `${A} true`]);
  });

  it('uses backendSummary in log lines; a throwing callback is logged, not thrown', async () => {
    const logger = memoryLogger();
    const backends = new Backends(Static.tryFromIter([A]), { logger });
    await backends.update();
    backends.setHealthCheck({
      check: () => Promise.reject(new Error('boom')),
      healthThreshold: () => 1,
      backendSummary: (b) => `origin ${b.addr}`,
      healthStatusChange: () => {
        throw new Error('callback bug');
      },
    });
    await backends.runHealthCheck();
    expect(logger.lines.map((l) => `${l.level} ${l.msg}`)).toEqual([
      'warn origin 10.0.0.1:80 becomes unhealthy, boom',
      'error health status change callback failed',
    ]);
  });

  it('parallel starts every check before any finishes; sequential runs one at a time', async () => {
    const backends = new Backends(Static.tryFromIter([A, B, '10.0.0.3:80']), { logger: memoryLogger() });
    await backends.update();
    let running = 0;
    let peak = 0;
    backends.setHealthCheck({
      async check() {
        peak = Math.max(peak, ++running);
        await new Promise((r) => setImmediate(r));
        running--;
      },
      healthThreshold: () => 1,
    });
    await backends.runHealthCheck(false);
    expect(peak).toBe(1);
    await backends.runHealthCheck(true);
    expect(peak).toBe(3);
  });
});

describe('one checker, many followers (multi-worker design)', () => {
  it('a follower fed over a MessageChannel sees every verdict, including ones sent before it discovered the backend', async () => {
    const checker = new Backends(Static.tryFromIter([A, B]), { logger: memoryLogger() });
    await checker.update();
    const down = new Set([A]);
    checker.setHealthCheck(scripted(down).check);

    // The follower runs no check; its table is fed from the checker's process.
    const followerDiscovery = Static.tryFromIter([B]);
    const follower = new Backends(followerDiscovery, { logger: memoryLogger() });
    await follower.update();
    const { port1, port2 } = new MessageChannel();
    const received: HealthUpdate[] = [];
    const got = () => new Promise<void>((r) => port2.once('message', () => setImmediate(r)));
    port2.on('message', (u: HealthUpdate) => {
      received.push(u);
      follower.applyHealthUpdate(u);
    });
    checker.onHealthChange((u) => port1.postMessage(u));

    let arrived = got();
    await checker.runHealthCheck();
    await arrived;
    expect(received).toEqual([{ key: `${A}#1`, addr: A, healthy: false, enabled: true }]);
    // A was not discovered by the follower yet: the verdict waits for it.
    followerDiscovery.add(new Backend(A));
    await follower.update();
    expect(follower.ready(new Backend(A))).toBe(false);

    down.clear();
    arrived = got();
    await checker.runHealthCheck();
    await arrived;
    expect(follower.ready(new Backend(A))).toBe(true);

    arrived = got();
    checker.setEnable(new Backend(B), false);
    await arrived;
    expect(follower.ready(new Backend(B))).toBe(false);
    expect(follower.healthSnapshot()).toEqual(checker.healthSnapshot());
    port1.close();
  });

  it('applyHealthUpdate reports whether it changed anything', async () => {
    const follower = new Backends(Static.tryFromIter([A]), { logger: memoryLogger() });
    await follower.update();
    const u = { key: `${A}#1`, addr: A, healthy: false, enabled: true };
    expect(follower.applyHealthUpdate(u)).toBe(true);
    expect(follower.applyHealthUpdate(u)).toBe(false);
  });
});
