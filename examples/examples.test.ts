import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rate } from '@pingora-ts/limits';
import { afterEach, describe, expect, it } from 'vitest';
import * as backoff from './backoff-retry.js';
import * as client from './client.js';
import * as ctxExample from './ctx.js';
import * as gateway from './gateway.js';
import { closeAll, deadPort, origin, track } from './lib/testing.js';
import * as modify from './modify-response.js';
import * as quickStart from './quick-start.js';
import * as rateLimiter from './rate-limiter.js';
import * as server from './server.js';

afterEach(closeAll);

async function get(port: number, path = '/', headers: Record<string, string> = {}) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers });
  return { status: res.status, headers: res.headers, body: await res.text() };
}

describe('examples', () => {
  it('quick-start round-robins over its origins and rewrites Host', async () => {
    const os = await Promise.all(['a', 'b', 'c'].map(origin));
    const r = track(
      await quickStart.main(
        0,
        os.map((o) => o.addr),
      ),
    );
    const bodies = [];
    for (let i = 0; i < 6; i++) bodies.push((await get(r.ports[0]!)).body.trim());
    expect(bodies).toEqual([
      'hello from a',
      'hello from b',
      'hello from c',
      'hello from a',
      'hello from b',
      'hello from c',
    ]);
    const echo = JSON.parse((await get(r.ports[0]!, '/echo')).body);
    expect(echo.headers.host).toBe('one.one.one.one');
  });

  it('ctx routes beta users and counts requests on the proxy', async () => {
    const [stable, beta] = [await origin('stable'), await origin('beta')];
    const r = track(await ctxExample.main(0, stable.addr, beta.addr));
    expect((await get(r.ports[0]!)).body).toContain('stable');
    expect((await get(r.ports[0]!, '/', { 'beta-flag': '1' })).body).toContain('beta');
    expect(r.router.requests).toBe(2);
  });

  it('gateway refuses /login without credentials and exposes a counter', async () => {
    const o = await origin('api');
    const r = track(await gateway.main(0, 0, o.addr));
    expect((await get(r.ports[0]!, '/login')).status).toBe(403);
    const ok = await get(r.ports[0]!, '/login', { authorization: 'Basic eDp5' });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('server')).toBe('MyGateway');
    const metrics = (await get(r.ports[1]!)).body;
    expect(metrics).toContain('gateway_requests_total{status="403"} 1');
    expect(metrics).toContain('gateway_requests_total{status="200"} 1');
  });

  it('modify-response turns the JSON body into YAML', async () => {
    const o = await origin('json');
    const r = track(await modify.main(0, o.addr));
    const res = await get(r.ports[0]!, '/echo?x=1');
    expect(res.headers.get('content-type')).toBe('text/yaml');
    expect(res.body).toContain('origin: "json"');
    expect(res.body).toContain('url: "/echo?x=1"');
    expect(res.body).toMatch(/headers:\n {2}host:/);
  });

  it('rate-limiter answers 429 with X-Rate-Limit headers past the limit', async () => {
    const o = await origin('limited');
    let now = 0;
    const rate = new Rate(1_000, { now: () => now });
    const r = track(await rateLimiter.main(0, o.addr, 2, rate));
    const codes = [];
    for (let i = 0; i < 4; i++) codes.push((await get(r.ports[0]!, '/', { appid: 'app1' })).status);
    expect(codes).toEqual([200, 200, 429, 429]);
    const limited = await get(r.ports[0]!, '/', { appid: 'app1' });
    expect(limited.headers.get('x-rate-limit-limit')).toBe('2');
    expect(limited.headers.get('x-rate-limit-remaining')).toBe('0');
    expect((await get(r.ports[0]!, '/', { appid: 'app2' })).status).toBe(200);
    expect((await get(r.ports[0]!)).status).toBe(200);
    now += 1_000;
    expect((await get(r.ports[0]!, '/', { appid: 'app1' })).status).toBe(200);
  });

  it('backoff-retry reaches the live peer after failed connects, and gives up after maxTries', async () => {
    const o = await origin('eventually');
    const dead = await deadPort();
    const r = track(await backoff.main(0, [`127.0.0.1:${dead}`, `127.0.0.1:${dead}`, o.addr], 5, 20));
    expect((await get(r.ports[0]!)).body).toContain('eventually');
    const r2 = track(await backoff.main(0, [`127.0.0.1:${dead}`], 3, 1));
    expect((await get(r2.ports[0]!)).status).toBe(502);
  });

  it('client reads a response header first, then the body, and reuses the connection', async () => {
    const o = await origin('client-demo');
    const r = await client.main(o.addr);
    expect(r.status).toEqual([200, 200]);
    expect(r.bodies).toEqual(['hello from client-demo\n', 'hello from client-demo\n']);
    expect(r.reused).toEqual([false, true]);
  });

  it('server runs a TCP echo (TCP and Unix socket) and an HTTP echo app', async () => {
    const uds = join(tmpdir(), `pingora-ts-echo-${process.pid}.sock`);
    const r = track(await server.main(0, 0, uds));
    const viaUds = await new Promise<string>((resolve) => {
      const s = net.connect(uds, () => s.end('over uds'));
      let got = '';
      s.on('data', (d) => (got += d));
      s.on('close', () => resolve(got));
    });
    expect(viaUds).toBe('over uds');
    const echoed = await new Promise<string>((resolve) => {
      const s = net.connect(r.ports[0]!, '127.0.0.1', () => s.end('ping'));
      let got = '';
      s.on('data', (d) => (got += d));
      s.on('close', () => resolve(got));
    });
    expect(echoed).toBe('ping');
    const res = await fetch(`http://127.0.0.1:${r.ports[1]}/path?q`, { method: 'POST', body: 'hi' });
    expect(await res.text()).toBe('POST /path?q\nhi');
  });
});
