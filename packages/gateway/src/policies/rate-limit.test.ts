import { closeAll, memoryLogger, request, startOrigin, type TestResponse } from '@pingora-ts/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { buildPolicies } from './index.js';
import { configWith, startRouteProxy } from './test-proxy.js';

afterEach(closeAll);

/** An origin that counts what reaches it; a proxy running `rate_limit` of route `r` in front. */
async function limited(rateLimit: unknown) {
  let hits = 0;
  const origin = await startOrigin((_req, res) => {
    hits++;
    res.end('ok');
  });
  const config = configWith(origin.addr, {
    routes: [{ name: 'r', upstream: 'app', rate_limit: rateLimit }],
  });
  const logger = memoryLogger();
  const policies = buildPolicies(config, { baseDir: '.', logger: logger as never });
  const guards = policies.rateLimitGuards(config.routes[0]!, 'r');
  const proxy = await startRouteProxy({ origin: origin.addr, guards });
  return { proxy, logger, hits: () => hits, close: () => policies.close() };
}

async function statuses(
  url: string,
  n: number,
  headers: Record<string, string> = {},
): Promise<TestResponse[]> {
  const out: TestResponse[] = [];
  for (let i = 0; i < n; i++) out.push(await request(url, { headers }));
  return out;
}

describe('rate limits (local)', () => {
  it('lets `requests` through per client address, then answers 429 with the limit headers', async () => {
    const t = await limited({ requests: 3, per: '1h' });
    const got = await statuses(t.proxy.url('/a'), 5);
    expect(got.map((r) => r.status)).toEqual([200, 200, 200, 429, 429]);
    const over = got[3]!;
    expect(over.headers['x-ratelimit-limit']).toBe('3');
    expect(over.headers['x-ratelimit-remaining']).toBe('0');
    const retryAfter = Number(over.headers['retry-after']);
    // The window is an hour long and has only just started.
    expect(retryAfter).toBeGreaterThan(3_000);
    expect(retryAfter).toBeLessThanOrEqual(3_600);
    expect(t.hits()).toBe(3);
    expect(t.logger.lines.some((l) => l.level === 'debug' && l.msg === 'rate limited')).toBe(true);
    await t.close();
  });

  it('counts per header value, and does not count requests without the header', async () => {
    const t = await limited({ requests: 2, per: '1h', key: 'header:x-user' });
    const a = await statuses(t.proxy.url(), 3, { 'x-user': 'a' });
    const b = await statuses(t.proxy.url(), 2, { 'x-user': 'b' });
    const none = await statuses(t.proxy.url(), 4);
    expect(a.map((r) => r.status)).toEqual([200, 200, 429]);
    expect(b.map((r) => r.status)).toEqual([200, 200]);
    expect(none.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(t.hits()).toBe(8);
    await t.close();
  });

  it('counts the whole route as one with key: route, and applies every rule of a list', async () => {
    const t = await limited([
      { requests: 3, per: '1h', key: 'route' },
      { requests: 1, per: '1h', key: 'header:x-user' },
    ]);
    const first = await statuses(t.proxy.url(), 2, { 'x-user': 'a' });
    expect(first.map((r) => r.status)).toEqual([200, 429]);
    const others = await statuses(t.proxy.url(), 1, { 'x-user': 'b' });
    const rest = await statuses(t.proxy.url(), 1, { 'x-user': 'c' });
    // The route rule saw a, a, b: c is the fourth request of the route.
    expect(others[0]!.status).toBe(200);
    expect(rest[0]!.status).toBe(429);
    expect(t.hits()).toBe(2);
    await t.close();
  });

  it('allows the key again in the next window', async () => {
    const t = await limited({ requests: 1, per: '1s' });
    // Two requests back to back normally land in one window; on a slow machine they may not,
    // so try a few times until the second one is refused.
    let refused: TestResponse | undefined;
    for (let i = 0; i < 5 && refused === undefined; i++) {
      const [, second] = await statuses(t.proxy.url(), 2);
      if (second!.status === 429) refused = second;
    }
    expect(refused?.headers['retry-after']).toBe('1');
    // Poll (the window is anchored at its first request) until a request is let through again.
    let allowed = false;
    const deadline = performance.now() + 15_000;
    while (!allowed && performance.now() < deadline) {
      allowed = (await request(t.proxy.url())).status === 200;
      if (!allowed) await new Promise((r) => setTimeout(r, 100));
    }
    expect(allowed).toBe(true);
    await t.close();
  });
});
