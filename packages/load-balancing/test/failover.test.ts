/**
 * The load balancer in front of real origins through a real proxy: down detection, no traffic to
 * a down backend, recovery, zero client errors when a backend dies under load, and ketama's
 * promise when the set grows.
 */
import http from 'node:http';
import { HttpPeer } from '@pingora-ts/core';
import { ErrorType, PingoraError } from '@pingora-ts/error';
import type { ProxyHttp } from '@pingora-ts/proxy';
import { afterEach, describe, expect, it } from 'vitest';
import {
  Backend,
  Backends,
  Consistent,
  HttpHealthCheck,
  LoadBalancer,
  RoundRobin,
  Static,
  TcpHealthCheck,
} from '../src/index.js';
import type { BackendSelection } from '../src/index.js';
import {
  closeAll,
  get,
  memoryLogger,
  type Origin,
  onClose,
  runBounded,
  startOrigin,
  startProxy,
} from './helpers.js';

afterEach(closeAll);

interface Ctx {
  tried: Set<string>;
}

/** Pingora's LB proxy: select a ready backend not tried yet; connect failures are retried elsewhere. */
function lbProxy(lb: LoadBalancer<BackendSelection>, counters = { connectFailures: 0 }): ProxyHttp<Ctx> {
  return {
    newCtx: () => ({ tried: new Set() }),
    upstreamPeer(_session, ctx) {
      const backend = lb.selectWith('', 256, (b, healthy) => healthy && !ctx.tried.has(b.addr));
      if (backend === undefined)
        throw PingoraError.explain(ErrorType.ConnectNoRoute, 'no ready backend').asUp();
      ctx.tried.add(backend.addr);
      const peer = new HttpPeer(backend.address, false, '');
      peer.options.connectionTimeout = 1_000;
      return peer;
    },
    failToConnect(_session, _peer, _ctx, error) {
      counters.connectFailures++;
      return error.setRetry(true);
    },
  };
}

async function three(): Promise<[Origin, Origin, Origin]> {
  return [await startOrigin('a'), await startOrigin('b'), await startOrigin('c')];
}

/** Sends `n` requests one after another; returns the bodies (origin names). */
async function burst(url: string, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await get(url);
    expect(r.status).toBe(200);
    out.push(r.body);
  }
  return out;
}

describe('health-checked load balancing through the proxy', () => {
  it('a backend that stops answering is down after consecutiveFailure checks, gets no requests, and is used again after recovery', async () => {
    const [a, b, c] = await three();
    const lb = LoadBalancer.tryFromIter(RoundRobin, [a.addr, b.addr, c.addr]);
    lb.logger = memoryLogger();
    const hc = TcpHealthCheck.new();
    hc.consecutiveFailure = 2;
    lb.setHealthCheck(hc);
    const p = await startProxy(lbProxy(lb));

    expect(new Set(await burst(p.url(), 6))).toEqual(new Set(['a', 'b', 'c']));
    await b.stop();
    // Checks are driven by hand here (the timing is covered with fake timers in the unit tests).
    await lb.backends().runHealthCheck();
    expect(lb.backends().ready(new Backend(b.addr))).toBe(true); // 1 of 2 failures
    await lb.backends().runHealthCheck();
    expect(lb.backends().ready(new Backend(b.addr))).toBe(false);
    const servedByB = b.served;
    const during = await burst(p.url(), 30);
    expect(new Set(during)).toEqual(new Set(['a', 'c']));
    expect(b.served).toBe(servedByB);

    await b.start(); // same port
    await lb.backends().runHealthCheck();
    expect(lb.backends().ready(new Backend(b.addr))).toBe(true);
    const after = await burst(p.url(), 9);
    expect(after.filter((x) => x === 'b')).toHaveLength(3);
  });

  it('an HTTP check takes an origin answering 500 out of rotation although its port is open', async () => {
    const [a, b, c] = await three();
    const lb = LoadBalancer.tryFromIter(RoundRobin, [a.addr, b.addr, c.addr]);
    const logger = memoryLogger();
    lb.logger = logger;
    lb.parallelHealthCheck = true;
    lb.setHealthCheck(HttpHealthCheck.new('health.check', false));
    const p = await startProxy(lbProxy(lb));
    b.status = 500;
    await lb.backends().runHealthCheck(lb.parallelHealthCheck);
    const proxied = () => b.seen.filter((line) => !line.endsWith('health.check')).length;
    const before = proxied();
    expect(new Set(await burst(p.url(), 20))).toEqual(new Set(['a', 'c']));
    expect(proxied()).toBe(before);
    expect(logger.lines.find((l) => l.level === 'warn')?.msg).toMatch(
      new RegExp(`^Backend \\{ addr: ${b.addr}, weight: 1 \\} becomes unhealthy, .*non 200 code`),
    );
    b.status = 200;
    await lb.backends().runHealthCheck();
    expect(new Set(await burst(p.url(), 6))).toEqual(new Set(['a', 'b', 'c']));
  });

  it('three backends, one killed mid-load: every request answered 200, none lost', {
    timeout: 90_000,
  }, async () => {
    // Sized to finish in seconds on a busy 2-core machine; the assertions are about outcomes,
    // and the kill and the check happen at counted responses, never at a time.
    const TOTAL = 600;
    const CONCURRENCY = 8;
    const KILL_AT = 200;
    const CHECK_AT = 350;
    const [a, b, c] = await three();
    const lb = LoadBalancer.tryFromIter(RoundRobin, [a.addr, b.addr, c.addr]);
    lb.logger = memoryLogger();
    lb.setHealthCheck(TcpHealthCheck.new());
    const counters = { connectFailures: 0 };
    const p = await startProxy(lbProxy(lb, counters));
    const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    onClose(() => agent.destroy());

    const statuses = new Map<number, number>();
    const errors: unknown[] = [];
    let answered = 0;
    let servedByBAtKill = 0;
    let stopped: Promise<void> | undefined;
    let checked: Promise<void> | undefined;
    await runBounded(TOTAL, CONCURRENCY, async (i) => {
      try {
        const r = await get(p.url(`/r${i}`), agent);
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      } catch (e) {
        errors.push(e);
      }
      answered++;
      if (answered === KILL_AT) {
        servedByBAtKill = b.served;
        // The process stops accepting; responses already in flight complete. Until the next
        // health check, requests picked for it fail to connect and are retried elsewhere.
        stopped = b.stop('graceful');
      }
      if (answered === CHECK_AT) checked = lb.backends().runHealthCheck(true);
    });
    await stopped;
    await checked;
    expect(errors).toEqual([]);
    expect(Object.fromEntries(statuses)).toEqual({ 200: TOTAL });
    // Round robin: b had served about a third of the answered requests when it was killed.
    expect(servedByBAtKill).toBeGreaterThan(KILL_AT / 4);
    expect(counters.connectFailures).toBeGreaterThan(0); // the retry path was exercised
    expect(lb.backends().ready(new Backend(b.addr))).toBe(false);
    expect(a.served + b.served + c.served).toBe(TOTAL);
    // Everything after the kill went to a and c (b only finished what was already in flight).
    expect(b.served - servedByBAtKill).toBeLessThanOrEqual(CONCURRENCY);
    expect(p.logs.filter((l) => l.level === 'error')).toEqual([]);
  });
});

describe('consistent hashing', () => {
  it('a key stays on its server when an unrelated server is added (ketama)', async () => {
    const discovery = Static.tryFromIter(['10.0.0.1:80', '10.0.0.2:80', '10.0.0.3:80']);
    const lb = LoadBalancer.fromBackends(Consistent, new Backends(discovery, { logger: memoryLogger() }));
    await lb.update();
    const keys = Array.from({ length: 2_000 }, (_, i) => `/user/${i}/profile`);
    const before = keys.map((k) => lb.select(k, 256)!.addr);
    discovery.add(new Backend('10.0.0.4:80'));
    await lb.update();
    const after = keys.map((k) => lb.select(k, 256)!.addr);
    let moved = 0;
    for (let i = 0; i < keys.length; i++) {
      if (after[i] === before[i]) continue;
      moved++;
      expect(after[i]).toBe('10.0.0.4:80'); // a key only ever moves to the new server
    }
    // The new server takes about a quarter of the keys.
    expect(moved / keys.length).toBeGreaterThan(0.15);
    expect(moved / keys.length).toBeLessThan(0.35);
  });

  it('a down server’s keys fail over along the ring; the others keep their server', async () => {
    const lb = LoadBalancer.tryFromIter(Consistent, ['10.0.0.1:80', '10.0.0.2:80', '10.0.0.3:80']);
    const keys = Array.from({ length: 500 }, (_, i) => `k${i}`);
    const before = keys.map((k) => lb.select(k, 256)!.addr);
    lb.backends().setEnable(new Backend('10.0.0.2:80'), false);
    const after = keys.map((k) => lb.select(k, 256)!.addr);
    for (let i = 0; i < keys.length; i++) {
      if (before[i] !== '10.0.0.2:80') expect(after[i]).toBe(before[i]);
      else expect(after[i]).not.toBe('10.0.0.2:80');
    }
  });
});
