import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import { join } from 'node:path';
import { Backend } from '@pingora-ts/load-balancing';
import { waitFor } from '@pingora-ts/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { consoleLogger } from './lib/console-logger.js';
import * as loadBalancer from './load-balancer.js';
import { TEST_CERTS } from './sni-certs.js';
import { closeAll, origin, track } from './lib/testing.js';
import * as mainJob from './main.js';
import * as multiLb from './multi-lb.js';

afterEach(closeAll);

async function get(port: number, path = '/') {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: (await res.text()).trim() };
}

async function bodies(port: number, n: number, path = '/'): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await get(port, path);
    expect(r.status).toBe(200);
    out.push(r.body);
  }
  return out;
}

/** The demo's logger, readable lines forced on (as on a terminal), printing into an array. */
function lines() {
  const out: string[] = [];
  return { out, logger: consoleLogger((l) => out.push(l), 'info', true) };
}

describe('load-balancing examples', () => {
  it('load-balancer round-robins, sets Host, and skips an origin whose port closed after a check', async () => {
    const os = [await origin('a'), await origin('b'), await origin('c')];
    const r = track(
      await loadBalancer.main(
        0,
        os.map((o) => o.addr),
      ),
    );
    r.upstreams.logger = lines().logger;
    // Round robin over the backends sorted by address (ports are not handed out in order).
    const seq = await bodies(r.ports[0]!, 6);
    expect(new Set(seq.slice(0, 3))).toEqual(new Set(['hello from a', 'hello from b', 'hello from c']));
    expect(seq.slice(3)).toEqual(seq.slice(0, 3));
    const echo = JSON.parse((await get(r.ports[0]!, '/echo')).body);
    expect(echo.headers.host).toBe('one.one.one.one');
    // The TLS listener speaks HTTP/2 (ALPN) to the same load balancer.
    const h2 = http2.connect(`https://localhost:${r.tlsPort}`, {
      ca: readFileSync(join(TEST_CERTS, 'ca.pem')),
    });
    const viaH2 = await new Promise<string>((resolve, reject) => {
      const req = h2.request({ ':path': '/' });
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => resolve(body.trim()));
      req.on('error', reject);
    });
    expect(h2.alpnProtocol).toBe('h2');
    h2.close();
    expect(viaH2).toMatch(/^hello from [abc]$/);
    await os[1]!.close();
    await r.upstreams.backends().runHealthCheck();
    expect(r.upstreams.backends().ready(new Backend(os[1]!.addr))).toBe(false);
    expect(new Set(await bodies(r.ports[0]!, 6))).toEqual(new Set(['hello from a', 'hello from c']));
  });

  it('multi-lb sends /one/… to cluster one and the rest to cluster two', async () => {
    const [oneA, oneB, twoA, twoB] = [
      await origin('one-a'),
      await origin('one-b'),
      await origin('two-a'),
      await origin('two-b'),
    ];
    const r = track(await multiLb.main(0, [oneA.addr, oneB.addr], [twoA.addr, twoB.addr]));
    expect(new Set(await bodies(r.ports[0]!, 4, '/one/x'))).toEqual(
      new Set(['hello from one-a', 'hello from one-b']),
    );
    expect(new Set(await bodies(r.ports[0]!, 4, '/two'))).toEqual(
      new Set(['hello from two-a', 'hello from two-b']),
    );
    expect(new Set(await bodies(r.ports[0]!, 2, '/one'))).toEqual(
      new Set(['hello from two-a', 'hello from two-b']),
    );
  });

  it('the main job fails over: origin-b goes down, requests keep succeeding, the flips are logged, it comes back', async () => {
    const { out, logger } = lines();
    const demo = track(await mainJob.startDemo({ port: 0, logger }));
    const port = demo.ports[0]!;
    expect(new Set(await bodies(port, 3))).toEqual(
      new Set(['hello from origin-a', 'hello from origin-b', 'hello from origin-c']),
    );
    // One access line per request, written by the logging phase once the response is done.
    const access = () => out.filter((l) => / INFO {2}GET \/ \d{3} bytes=/.test(l));
    await waitFor(() => access().length === 3, { message: 'an access line per request' });
    for (const l of access()) {
      expect(l).toMatch(
        /INFO {2}GET \/ 200 bytes=\d+ time=[\d.]+ms upstream=127\.0\.0\.1:\d+ connect=([\d.]+ms|reused) ttfb=[\d.]+ms upstream_time=[\d.]+ms retries=0 client=127\.0\.0\.1:\d+\b/,
      );
    }

    await demo.flappy.down();
    const servedByB = demo.flappy.origin.served;
    // Before the health check notices: connect failures are retried on another origin.
    const during = await bodies(port, 6);
    expect(during.every((b) => b !== 'hello from origin-b')).toBe(true);
    const bAddr = `127\\.0\\.0\\.1:${demo.flappy.origin.port}`;
    expect(out.find((l) => l.includes('retrying request:'))).toMatch(
      new RegExp(
        `WARN {2}retrying request: connect to ${bAddr} failed \\(Connection refused\\), attempt 2, GET /`,
      ),
    );
    await waitFor(() => access().length === 9, { message: 'access lines for the failover requests' });
    expect(
      access()
        .slice(3)
        .some((l) => / GET \/ 200 .* retries=1 /.test(l)),
    ).toBe(true);
    await demo.upstreams.backends().runHealthCheck();
    expect(out.find((l) => l.includes('becomes unhealthy'))).toMatch(
      /WARN {2}origin-b \(127\.0\.0\.1:\d+\) becomes unhealthy, .*ConnectRefused/,
    );
    expect(new Set(await bodies(port, 6))).toEqual(new Set(['hello from origin-a', 'hello from origin-c']));
    expect(demo.flappy.origin.served).toBe(servedByB);

    await demo.flappy.restore();
    await demo.upstreams.backends().runHealthCheck();
    expect(out.find((l) => l.includes('becomes healthy'))).toMatch(
      /INFO {2}origin-b \(127\.0\.0\.1:\d+\) becomes healthy/,
    );
    expect(await bodies(port, 6)).toContain('hello from origin-b');
  });
});
