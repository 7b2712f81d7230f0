import diagnosticsChannel from 'node:diagnostics_channel';
import { createLogger, noopLogger, ShutdownController } from '@pingora-ts/core';
import { PROXY_CHANNELS, type ProxyHttp } from '@pingora-ts/proxy';
import { closeAll, freePort, memoryLogger, request, startOrigin, waitFor } from '@pingora-ts/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { configWith, startRouteProxy } from '../policies/test-proxy.js';
import type { GatewayCtx, UpstreamCluster } from '../runtime/contracts.js';
import { buildObservability } from './index.js';

afterEach(closeAll);

async function okOrigin() {
  return startOrigin((_req, res) => res.end('ok'));
}

describe('access log', () => {
  it('writes one JSON object per request with the record and the route name', async () => {
    const origin = await okOrigin();
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', pretty: false, destination: (l) => lines.push(l) });
    const config = configWith(origin.addr, { observability: { access_log: { format: 'json' } } });
    const obs = buildObservability(config, { baseDir: '.', logger });
    const proxy = await startRouteProxy({ origin: origin.addr, routeName: 'api', logging: obs.logging });
    expect((await request(proxy.url('/j?x=1'))).status).toBe(200);
    await waitFor(() => lines.some((l) => l.includes('"msg":"access"')), { message: 'the access line' });
    const record = JSON.parse(lines.find((l) => l.includes('"msg":"access"'))!);
    expect(record).toMatchObject({ method: 'GET', path: '/j?x=1', status: 200, route: 'api', retries: 0 });
    expect(record.upstream).toBe(origin.addr);
    expect(typeof record.total).toBe('number');
    obs.close();
  });

  it('writes the readable line with the route name by default', async () => {
    const origin = await okOrigin();
    const logger = memoryLogger();
    const config = configWith(origin.addr, {});
    const obs = buildObservability(config, { baseDir: '.', logger: logger as never });
    const proxy = await startRouteProxy({ origin: origin.addr, routeName: 'web', logging: obs.logging });
    await request(proxy.url('/r'));
    await waitFor(() => logger.lines.some((l) => l.msg.startsWith('GET /r 200')), { message: 'the line' });
    const line = logger.lines.find((l) => l.msg.startsWith('GET /r 200'))!;
    expect(line.level).toBe('info');
    expect(line.msg).toMatch(/ route=web$/);
    expect(line.msg).toContain(`upstream=${origin.addr}`);
  });

  it('costs nothing when everything is off', async () => {
    const config = configWith('127.0.0.1:1', { observability: { access_log: false } });
    const obs = buildObservability(config, { baseDir: '.', logger: memoryLogger() as never });
    const proxy: ProxyHttp<GatewayCtx> = { upstreamPeer: () => undefined as never };
    expect(obs.logging).toBeUndefined();
    expect(obs.wrapProxy(proxy)).toBe(proxy);
    expect(obs.services()).toEqual([]);
    obs.close();
  });
});

describe('prometheus', () => {
  it('serves request counts, open connections and backend health on its address', async () => {
    const origin = await okOrigin();
    const port = await freePort();
    const config = configWith(origin.addr, {
      observability: { access_log: false, prometheus: { address: `127.0.0.1:${port}` } },
    });
    const obs = buildObservability(config, { baseDir: '.', logger: memoryLogger() as never });
    const proxy = await startRouteProxy({ origin: origin.addr, wrap: (p) => obs.wrapProxy(p) });
    // A cluster whose load balancer is found by shape, as the upstreams module builds it.
    const backend = { addr: origin.addr };
    const cluster = {
      name: 'app',
      retries: 0,
      select: () => undefined,
      background: undefined,
      loadBalancer: {
        backends: () => ({ getBackends: () => [backend], ready: () => true }),
        inflight: { get: () => 0 },
      },
    } as unknown as UpstreamCluster;
    obs.register(proxy.service, new Map([['app', cluster]]));
    const [metrics] = obs.services();
    expect(obs.services()).toEqual([metrics]);
    const ctl = new ShutdownController();
    await metrics!.start(ctl.watch, noopLogger);
    try {
      for (let i = 0; i < 3; i++) expect((await request(proxy.url(`/m${i}`))).status).toBe(200);
      const scrape = await request(`http://127.0.0.1:${port}/metrics`);
      expect(scrape.status).toBe(200);
      const count = scrape.body
        .split('\n')
        .find((l) => l.startsWith('http_server_request_duration_seconds_count{') && l.includes('"200"'));
      expect(Number(count?.split(' ').pop())).toBeGreaterThanOrEqual(3);
      expect(scrape.body).toMatch(/http_server_requests_total\{[^}]*2xx[^}]*\} [3-9]/);
      expect(scrape.body).toContain('pingora_downstream_open_connections{service="policy test proxy"}');
      expect(scrape.body).toContain(
        `pingora_upstream_backend_healthy{upstream="app",backend="${origin.addr}"} 1`,
      );
    } finally {
      ctl.shutdown(false);
      await metrics!.stop(false, 0);
      obs.close();
    }
  });
});

describe('tracing', () => {
  it('subscribes only when on, and stops on close', async () => {
    const config = configWith('127.0.0.1:1', { observability: { tracing: true } });
    const obs = buildObservability(config, { baseDir: '.', logger: memoryLogger() as never });
    const hasSubscribers = () => diagnosticsChannel.channel(PROXY_CHANNELS.requestStart).hasSubscribers;
    const on = hasSubscribers();
    obs.close();
    expect([on, hasSubscribers()]).toEqual([true, false]);
  });
});
