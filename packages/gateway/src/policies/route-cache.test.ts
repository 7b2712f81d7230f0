import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeAll, memoryLogger, request, startOrigin, waitFor } from '@pingora-ts/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { buildPolicies } from './index.js';
import { configWith, startRouteProxy } from './test-proxy.js';

afterEach(closeAll);

/**
 * An origin counting requests per method and path: `/vary-ua` and `/vary-ae` answer with that
 * Vary, `/missing` with 404, `/auth` echoes nothing special; every body names its request number.
 */
async function countingOrigin() {
  const seen = new Map<string, number>();
  const origin = await startOrigin((req, res) => {
    const key = `${req.method} ${req.url}`;
    const n = (seen.get(key) ?? 0) + 1;
    seen.set(key, n);
    if (req.url === '/vary-ua') res.setHeader('Vary', 'User-Agent');
    if (req.url === '/vary-ae') res.setHeader('Vary', 'Accept-Encoding');
    if (req.url === '/missing') res.statusCode = 404;
    if (req.url === '/cookie') res.setHeader('Set-Cookie', `session=${n}`);
    res.end(`${req.url} #${n}`);
  });
  return { origin, count: (key: string) => seen.get(key) ?? 0 };
}

async function cachedProxy(cache: unknown, extra: Record<string, unknown> = {}, baseDir = '.') {
  const o = await countingOrigin();
  const config = configWith(o.origin.addr, { routes: [{ name: 'r', upstream: 'app', cache }], ...extra });
  const policies = buildPolicies(config, { baseDir, logger: memoryLogger() as never });
  const routeCache = policies.routeCache(config.routes[0]!, 'r');
  await policies.ready();
  const proxy = await startRouteProxy({ origin: o.origin.addr, cache: routeCache });
  return { ...o, proxy, policies, routeCache };
}

const status = (r: { headers: Record<string, unknown> }) => r.headers['x-cache-status'];

describe('route cache (memory)', () => {
  it('is off for `cache: false` and absent', async () => {
    const o = await countingOrigin();
    const config = configWith(o.origin.addr, {
      routes: [{ upstream: 'app', cache: false }, { upstream: 'app' }],
    });
    const policies = buildPolicies(config, { baseDir: '.', logger: memoryLogger() as never });
    expect(policies.routeCache(config.routes[0]!, 'a')).toBeUndefined();
    expect(policies.routeCache(config.routes[1]!, 'b')).toBeUndefined();
    await policies.close();
  });

  it('misses then hits; a 200 without Cache-Control is kept for the default ttl', async () => {
    const t = await cachedProxy(true);
    const first = await request(t.proxy.url('/a'));
    const second = await request(t.proxy.url('/a'));
    expect([status(first), status(second)]).toEqual(['miss', 'hit']);
    expect(second.body).toBe('/a #1');
    expect(t.count('GET /a')).toBe(1);
    // POST does not use the cache and gets no x-cache-status.
    const post = await request(t.proxy.url('/a'), { method: 'POST' });
    expect(status(post)).toBeUndefined();
    expect(t.count('POST /a')).toBe(1);
    await t.policies.close();
  });

  it('does not keep a 404 the origin gives no lifetime, an answer to Authorization, or a Set-Cookie', async () => {
    const t = await cachedProxy(true);
    await request(t.proxy.url('/missing'));
    const again = await request(t.proxy.url('/missing'));
    expect(again.status).toBe(404);
    expect(t.count('GET /missing')).toBe(2);
    const auth = { authorization: 'Bearer x' };
    await request(t.proxy.url('/auth'), { headers: auth });
    await request(t.proxy.url('/auth'), { headers: auth });
    expect(t.count('GET /auth')).toBe(2);
    // One client's cookie is never handed to the next.
    await request(t.proxy.url('/cookie'));
    expect((await request(t.proxy.url('/cookie'))).headers['set-cookie']).toEqual(['session=2']);
    expect(t.count('GET /cookie')).toBe(2);
    await t.policies.close();
  });

  it('expires an asset after its ttl', async () => {
    const t = await cachedProxy({ ttl: '300ms' });
    expect(status(await request(t.proxy.url('/t')))).toBe('miss');
    let last: unknown;
    const deadline = performance.now() + 15_000;
    do {
      last = status(await request(t.proxy.url('/t')));
      if (last === 'hit') await new Promise((r) => setTimeout(r, 50));
    } while (last === 'hit' && performance.now() < deadline);
    expect(last).toBe('expired');
    expect(t.count('GET /t')).toBe(2);
    await t.policies.close();
  });

  it('serves the stale asset while it is refreshed within stale_while_revalidate', async () => {
    const t = await cachedProxy({ ttl: '300ms', stale_while_revalidate: '1h' });
    expect(status(await request(t.proxy.url('/w')))).toBe('miss');
    let r = await request(t.proxy.url('/w'));
    for (const deadline = performance.now() + 15_000; status(r) === 'hit' && performance.now() < deadline; ) {
      await new Promise((done) => setTimeout(done, 50));
      r = await request(t.proxy.url('/w'));
    }
    expect(status(r)).toBe('stale-updating');
    expect(r.body).toBe('/w #1');
    // The refresh went to the origin behind the client's back; the next request gets its result.
    await waitFor(() => t.count('GET /w') === 2, { message: 'the background refresh' });
    await waitFor(async () => (await request(t.proxy.url('/w'))).body === '/w #2', { interval: 20 });
    await t.policies.close();
  });

  it('serves the stale asset instead of an upstream failure within stale_if_error', async () => {
    const t = await cachedProxy({ ttl: '300ms', stale_if_error: '1h' });
    expect(status(await request(t.proxy.url('/e')))).toBe('miss');
    t.origin.server.closeAllConnections();
    await new Promise<void>((done) => t.origin.server.close(() => done()));
    let r = await request(t.proxy.url('/e'));
    for (const deadline = performance.now() + 15_000; status(r) === 'hit' && performance.now() < deadline; ) {
      await new Promise((done) => setTimeout(done, 50));
      r = await request(t.proxy.url('/e'));
    }
    expect([r.status, status(r), r.body]).toEqual([200, 'stale', '/e #1']);
    await t.policies.close();
  });

  it('stores a Vary on an allowed header and refuses one outside the allow-list', async () => {
    const t = await cachedProxy({ vary: ['Accept-Encoding'] });
    const ua = { 'user-agent': 'one' };
    // Found uncacheable after the origin answered: the cache turns itself off for the request.
    expect(status(await request(t.proxy.url('/vary-ua'), { headers: ua }))).toBe('disabled');
    expect(status(await request(t.proxy.url('/vary-ua'), { headers: ua }))).not.toBe('hit');
    expect(t.count('GET /vary-ua')).toBe(2);
    const ae = { 'accept-encoding': 'identity' };
    expect(status(await request(t.proxy.url('/vary-ae'), { headers: ae }))).toBe('miss');
    expect(status(await request(t.proxy.url('/vary-ae'), { headers: ae }))).toBe('hit');
    expect(t.count('GET /vary-ae')).toBe(1);
    await t.policies.close();
  });

  it('stores a response varying on any header when no allow-list is given', async () => {
    const t = await cachedProxy(true);
    const get = (ua: string) => request(t.proxy.url('/vary-ua'), { headers: { 'user-agent': ua } });
    expect(status(await get('one'))).toBe('miss');
    expect(status(await get('one'))).toBe('hit');
    expect(status(await get('two'))).toBe('miss');
    expect(t.count('GET /vary-ua')).toBe(2);
    await t.policies.close();
  });

  it('keeps variants apart by the extra key values', async () => {
    const t = await cachedProxy({ key: ['header:x-tenant'] });
    const get = (tenant: string) => request(t.proxy.url('/k'), { headers: { 'x-tenant': tenant } });
    expect(status(await get('a'))).toBe('miss');
    expect(status(await get('b'))).toBe('miss');
    expect((await get('a')).body).toBe('/k #1');
    expect((await get('b')).body).toBe('/k #2');
    expect(t.count('GET /k')).toBe(2);
    await t.policies.close();
  });

  it('purges with PURGE when `purge: true`', async () => {
    const t = await cachedProxy({ purge: true });
    await request(t.proxy.url('/p'));
    expect(status(await request(t.proxy.url('/p')))).toBe('hit');
    const purged = await request(t.proxy.url('/p'), { method: 'PURGE' });
    expect(purged.status).toBe(200);
    expect(status(await request(t.proxy.url('/p')))).toBe('miss');
    expect(t.count('GET /p')).toBe(2);
    expect(t.count('PURGE /p')).toBe(0);
    await t.policies.close();
  });

  it('sends PURGE to the origin when purge is off', async () => {
    const t = await cachedProxy(true);
    await request(t.proxy.url('/p'));
    await request(t.proxy.url('/p'), { method: 'PURGE' });
    expect(t.count('PURGE /p')).toBe(1);
    expect(status(await request(t.proxy.url('/p')))).toBe('hit');
    await t.policies.close();
  });

  it('shares one memory storage between routes, keeping their assets apart', async () => {
    const o = await countingOrigin();
    const config = configWith(o.origin.addr, {
      routes: [
        { name: 'one', upstream: 'app', cache: true },
        { name: 'two', upstream: 'app', cache: { ttl: '10s' } },
      ],
    });
    const policies = buildPolicies(config, { baseDir: '.', logger: memoryLogger() as never });
    const one = await startRouteProxy({
      origin: o.origin.addr,
      cache: policies.routeCache(config.routes[0]!, 'one'),
    });
    const two = await startRouteProxy({
      origin: o.origin.addr,
      cache: policies.routeCache(config.routes[1]!, 'two'),
    });
    await request(one.url('/s'));
    expect(status(await request(two.url('/s')))).toBe('miss');
    expect(status(await request(one.url('/s')))).toBe('hit');
    expect(o.count('GET /s')).toBe(2);
    await policies.close();
  });
});

describe('route cache (disk)', () => {
  it('stores on disk under cache.disk.path, relative to the file', async () => {
    const base = mkdtempSync(join(tmpdir(), 'gateway-disk-'));
    try {
      const t = await cachedProxy({ storage: 'disk' }, { cache: { disk: { path: 'cache' } } }, base);
      expect(status(await request(t.proxy.url('/d')))).toBe('miss');
      const hit = await request(t.proxy.url('/d'));
      expect(status(hit)).toBe('hit');
      expect(hit.body).toBe('/d #1');
      expect(t.count('GET /d')).toBe(1);
      expect(existsSync(join(base, 'cache'))).toBe(true);
      expect(readdirSync(join(base, 'cache')).length).toBeGreaterThan(0);
      await t.policies.close();
      // The state saved on close is what a restart loads.
      expect(existsSync(join(base, 'cache', 'state'))).toBe(true);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});
