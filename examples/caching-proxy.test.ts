import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { onClose, waitFor } from '@pingora-ts/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { Server } from '@pingora-ts/core';
import { httpProxyService } from '@pingora-ts/proxy';
import * as caching from './caching-proxy.js';
import { startServices } from './lib/run.js';
import { closeAll, origin, track } from './lib/testing.js';

afterEach(closeAll);

async function send(port: number, path: string, method = 'GET') {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method });
  return { status: res.status, cache: res.headers.get('x-cache-status'), body: await res.text() };
}

describe('caching-proxy', () => {
  it('stores a 200 for the default TTL, serves hits without the origin, and PURGE removes it', async () => {
    const o = await origin('cached');
    const port = track(await caching.main(0, o.addr)).ports[0]!;
    const miss = await send(port, '/a');
    expect(miss).toMatchObject({ status: 200, cache: 'miss', body: 'hello from cached\n' });
    const hit = await send(port, '/a');
    expect(hit).toMatchObject({ status: 200, cache: 'hit', body: 'hello from cached\n' });
    expect(o.served).toBe(1);
    expect((await send(port, '/a', 'PURGE')).status).toBe(200);
    expect((await send(port, '/a', 'PURGE')).status).toBe(404);
    expect((await send(port, '/a')).cache).toBe('miss');
    expect(o.served).toBe(2);
  });

  it('a stampede of 50 requests for one missing asset reaches the origin once', async () => {
    let served = 0;
    let release: (() => void) | undefined;
    const slow = http.createServer((_req, res) => {
      served++;
      // Held until every client request is in flight, so they all overlap the first fetch.
      release = () => res.end('slow body');
    });
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
    onClose(() => new Promise<void>((r) => slow.close(() => r())));
    const addr = `127.0.0.1:${(slow.address() as AddressInfo).port}`;
    const { proxy } = caching.cachingProxy(addr);
    let seen = 0;
    const filter = proxy.requestCacheFilter!.bind(proxy);
    proxy.requestCacheFilter = (s, c) => {
      seen++;
      return filter(s, c);
    };
    const service = httpProxyService(new Server(null).configuration, proxy);
    service.addTcp('127.0.0.1:0');
    const port = track(await startServices([service])).ports[0]!;
    const all = Array.from({ length: 50 }, () => send(port, '/stampede'));
    await waitFor(() => seen === 50 && release !== undefined);
    release!();
    const results = await Promise.all(all);
    expect(results.every((r) => r.status === 200 && r.body === 'slow body')).toBe(true);
    expect(served).toBe(1);
    expect(results.filter((r) => r.cache === 'miss')).toHaveLength(1);
  });
});
