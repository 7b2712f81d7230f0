import type { HealthUpdate } from '@pingora-ts/load-balancing';
import { closeAll, request, startOrigin, waitFor } from '@pingora-ts/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import type { GatewayCluster } from './cluster.js';
import { buildApp, namedOrigins, runBackground, startClusterProxy, stopOrigin } from './test-support.js';

afterEach(closeAll);

/** Resolves with the next health change of `addr` to `healthy` (capped generously). */
function healthChange(cluster: GatewayCluster, addr: string, healthy: boolean): Promise<HealthUpdate> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no health change of ${addr} to ${healthy} within 20 s`));
    }, 20_000);
    const off = cluster.loadBalancer.backends().onHealthChange((u) => {
      if (u.addr !== addr || u.healthy !== healthy) return;
      clearTimeout(timer);
      off();
      resolve(u);
    });
  });
}

describe('health checks', () => {
  it('a TCP check marks a stopped origin unhealthy and selection skips it', async () => {
    const { origins, hits } = await namedOrigins(3);
    const cluster = buildApp({
      backends: origins.map((o) => o.addr),
      health_check: { type: 'tcp', interval: '50ms', timeout: '1s', unhealthy_after: 2 },
      retries: 0, // a pick of the stopped origin would answer 502
    });
    expect(cluster.background).toBe(cluster.loadBalancer);
    const url = await startClusterProxy(cluster);
    runBackground(cluster);
    const down = healthChange(cluster, origins[1]!.addr, false);
    await stopOrigin(origins[1]!);
    await down;
    hits.clear();
    for (let i = 0; i < 12; i++) expect((await request(`${url}/`)).status).toBe(200);
    expect(hits.get('o1')).toBeUndefined();
    expect(hits.get('o0')! + hits.get('o2')!).toBe(12);
  });

  it('an HTTP check sends the path and Host, and a status other than expected_status fails it', async () => {
    const seen: string[] = [];
    const ok = await startOrigin((req, res) => {
      seen.push(`${req.url} ${req.headers.host}`);
      res.statusCode = req.url === '/ready' ? 204 : 200;
      res.end('ok');
    });
    const sick = await startOrigin((req, res) => {
      res.statusCode = req.url === '/ready' ? 503 : 200;
      res.end('sick');
    });
    const cluster = buildApp({
      backends: [ok.addr, sick.addr],
      health_check: {
        type: 'http',
        path: '/ready',
        host: 'health.internal',
        expected_status: 204,
        interval: '50ms',
      },
    });
    const down = healthChange(cluster, sick.addr, false);
    runBackground(cluster);
    await down;
    await waitFor(() => seen.length > 0, { message: 'a check of the healthy origin' });
    expect(seen[0]).toBe('/ready health.internal');
    const url = await startClusterProxy(cluster);
    for (let i = 0; i < 6; i++) expect((await request(`${url}/`)).body).toBe('ok');
    const lb = cluster.loadBalancer;
    const health = lb
      .backends()
      .getBackends()
      .map((b) => [b.addr, lb.backends().ready(b)]);
    expect(health).toEqual(
      expect.arrayContaining([
        [ok.addr, true],
        [sick.addr, false],
      ]),
    );
  });

  it('healthy_after: a recovered origin needs that many good checks in a row', async () => {
    let healthy = false;
    const origin = await startOrigin((_req, res) => {
      res.statusCode = healthy ? 200 : 500;
      res.end();
    });
    const cluster = buildApp({
      backends: [origin.addr],
      health_check: { type: 'http', interval: '30ms', healthy_after: 3 },
    });
    const down = healthChange(cluster, origin.addr, false);
    runBackground(cluster);
    await down;
    let checksSinceRecovery = 0;
    origin.server.on('request', () => {
      if (healthy) checksSinceRecovery++;
    });
    const up = healthChange(cluster, origin.addr, true);
    healthy = true;
    await up;
    expect(checksSinceRecovery).toBeGreaterThanOrEqual(3);
  });

  it('no health check and IP backends: nothing runs in the background', () => {
    expect(buildApp({ backends: ['127.0.0.1:1'] }).background).toBeUndefined();
  });
});
