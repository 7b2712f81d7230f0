/**
 * The policies and the access log inside the gateway's own proxy (compiled routes and
 * `gatewayProxy`), as `buildGateway` puts them together: one file, two routes, each with its rule.
 */
import { closeAll, memoryLogger, request, startOrigin, waitFor } from '@pingora-ts/test-utils';
import { afterEach, expect, it } from 'vitest';
import { buildObservability } from '../observability/index.js';
import { startGateway } from '../runtime/test-harness.js';
import { type GatewayConfigInput, gatewayConfig } from '../schema/index.js';
import { buildPolicies } from './index.js';

afterEach(closeAll);

it('rate limits one route and caches another, logging each request with its route', async () => {
  const seen = new Map<string, number>();
  const origin = await startOrigin((req, res) => {
    seen.set(req.url!, (seen.get(req.url!) ?? 0) + 1);
    res.end(`${req.url}`);
  });
  const input: GatewayConfigInput = {
    upstreams: { app: { backends: [origin.addr] } },
    routes: [
      {
        name: 'api',
        match: { path_prefix: '/api' },
        upstream: 'app',
        rate_limit: { requests: 2, per: '1h' },
      },
      { name: 'assets', match: { path_prefix: '/s/' }, upstream: 'app', cache: { ttl: '1h' } },
    ],
    observability: { access_log: { format: 'json' } },
  };
  const config = gatewayConfig.parse(input);
  const logger = memoryLogger();
  const ctx = { baseDir: '.', logger: logger as never };
  const policies = buildPolicies(config, ctx);
  const obs = buildObservability(config, ctx);
  const gw = await startGateway(input, { policies, logging: obs.logging });
  try {
    const api = [];
    for (let i = 0; i < 3; i++) api.push((await request(gw.url('/api/x'))).status);
    expect(api).toEqual([200, 200, 429]);
    expect(seen.get('/api/x')).toBe(2);

    const first = await request(gw.url('/s/a.css'));
    const second = await request(gw.url('/s/a.css'));
    expect([first.headers['x-cache-status'], second.headers['x-cache-status']]).toEqual(['miss', 'hit']);
    expect(seen.get('/s/a.css')).toBe(1);
    // Another path of the API route: the client's count is the route's, whatever the path.
    expect((await request(gw.url('/api/y'))).status).toBe(429);

    const access = () =>
      logger.lines.filter((l) => l.msg === 'access').map((l) => l.obj as Record<string, unknown>);
    await waitFor(() => access().length === 6, { message: 'six access records' });
    expect(access().map((r) => [r.route, r.status])).toEqual([
      ['api', 200],
      ['api', 200],
      ['api', 429],
      ['assets', 200],
      ['assets', 200],
      ['api', 429],
    ]);
    expect(access()[4]!.cache).toBe('hit');
  } finally {
    obs.close();
    await policies.close();
  }
});
