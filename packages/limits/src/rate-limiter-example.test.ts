import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp } from '../examples/rate-limiter.js';
import { Rate } from './rate.js';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
}

function get(port: number, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', headers, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('examples/rate-limiter.ts (README)', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  it('answers 429 with the X-Rate-Limit headers past 1 request per second per appid', async () => {
    let t = 0;
    const server = createApp(new Rate(1000, { now: () => t }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    close = () => new Promise((resolve) => server.close(() => resolve()));
    const { port } = server.address() as AddressInfo;

    expect((await get(port, { appid: 'a' })).status).toBe(200);
    const limited = await get(port, { appid: 'a' });
    expect(limited.status).toBe(429);
    expect(limited.headers['x-rate-limit-limit']).toBe('1');
    expect(limited.headers['x-rate-limit-remaining']).toBe('0');
    expect(limited.headers['x-rate-limit-reset']).toBe('1');
    expect(limited.headers.connection).toBe('close');
    // Other clients, and requests without an appid, are not affected.
    expect((await get(port, { appid: 'b' })).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await get(port)).status).toBe(200);

    t += 1000; // next window
    expect((await get(port, { appid: 'a' })).status).toBe(200);
    expect((await get(port, { appid: 'a' })).status).toBe(429);
  });
});
