/**
 * `pingora-ts --demo` from the binary: it prints the URLs to try, and each works — the home page,
 * round robin over two origins, a cache miss then hit, a rate limit, the metrics. The demo runs on
 * free ports (`PINGORA_TS_DEMO_PORTS`), so the test does not depend on 6188 being free.
 */
import { createServer } from 'node:net';
import { freePort, processAlive, waitFor } from '@pingora-ts/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Run, runBinary, sweep } from './cli-process.js';
import { listeningPids } from './reload-harness.js';

let run: Run;
let proxy = 0;
let metrics = 0;
let origins: number[] = [];

beforeAll(async () => {
  const ports = new Set<number>();
  // Five distinct ports: freePort may hand the same one back once it is closed again.
  while (ports.size < 5) ports.add(await freePort());
  const list = [...ports];
  proxy = list[0]!;
  metrics = list[1]!;
  origins = list.slice(2);
  run = runBinary(['--demo'], { PINGORA_TS_DEMO_PORTS: [...ports].join(',') });
  // The proxy and the metrics endpoint both listen, and the URLs are printed.
  await waitFor(() => listeningPids(run).length >= 2 && run.stdout().includes('/metrics'), {
    timeout: 60_000,
    message: `the demo to listen and print its URLs (stdout: ${run.stdout()})`,
  });
});

afterAll(() => sweep(run === undefined ? [] : [run.pid]));

function url(path: string): string {
  return `http://127.0.0.1:${proxy}${path}`;
}

describe('pingora-ts --demo', () => {
  it('prints the URLs to try, on the ports it runs on', () => {
    const out = run.stdout();
    expect(out).toContain(
      `demo origins on 127.0.0.1:${origins.join(', ')}; the proxy on http://127.0.0.1:${proxy}/ — try:`,
    );
    for (const path of ['/api/hello', '/cached/page', '/limited/x']) {
      expect(out).toContain(`curl -i 127.0.0.1:${proxy}${path}`);
    }
    expect(out).toContain(`curl -s 127.0.0.1:${metrics}/metrics`);
    expect(out).not.toContain('6188');
  });

  it('/: the home page names the routes to try, with its own port', async () => {
    const res = await fetch(url('/'));
    expect(res.status).toBe(200);
    const body = await res.text();
    expect(body).toContain('pingora-ts gateway demo. Try:');
    expect(body).toContain(`curl -i 127.0.0.1:${proxy}/api/hello`);
  });

  it('/api/: round robin over the two api origins, prefix stripped, header added', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const res = await fetch(url('/api/hello'));
      expect(res.status).toBe(200);
      expect(res.headers.get('x-served-by')).toBe('pingora-ts');
      const who = res.headers.get('x-origin')!;
      expect(await res.text()).toBe(`hello from ${who}: GET /hello\n`);
      seen.add(who);
    }
    expect([...seen].sort()).toEqual(['api-a', 'api-b']);
  });

  it('/cached/: a miss, then a hit with the same body', async () => {
    const first = await fetch(url('/cached/page'));
    expect(first.headers.get('x-cache-status')).toBe('miss');
    const body = await first.text();
    expect(body).toContain('hello from content: GET /cached/page');
    const second = await fetch(url('/cached/page'));
    expect(second.headers.get('x-cache-status')).toBe('hit');
    expect(await second.text()).toBe(body);
  });

  it('/limited/: 429 once more than 5 arrive in a second', async () => {
    const statuses: number[] = [];
    // Windows are fixed: a run of requests may span two, so the 429 comes after at least 5 answers.
    while (!statuses.includes(429) && statuses.length < 50) {
      const res = await fetch(url('/limited/x'));
      await res.arrayBuffer();
      statuses.push(res.status);
    }
    const firstLimited = statuses.indexOf(429);
    expect(firstLimited).toBeGreaterThanOrEqual(5);
    expect(statuses.slice(0, firstLimited).every((s) => s === 200)).toBe(true);
  });

  it('metrics: request counts and backend health in Prometheus format', async () => {
    const res = await fetch(`http://127.0.0.1:${metrics}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/^http_server_requests_total\{[^}]*"2xx"[^}]*\} [1-9]/m);
    expect(text).toMatch(/^http_server_requests_total\{[^}]*"4xx"[^}]*\} [1-9]/m);
    expect(text).toMatch(/^pingora_upstream_backend_healthy\{[^}]*\} 1/m);
  });

  it('SIGHUP: nothing to reload (the bundled file), the same process serves on', async () => {
    process.kill(run.pid, 'SIGHUP');
    const line = 'SIGHUP: the demo runs its bundled file, which does not change; nothing to reload';
    await waitFor(() => run.stderr().includes(line), { timeout: 30_000, message: line });
    expect(run.stderr()).not.toContain('successor');
    const res = await fetch(url('/api/again'));
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/^hello from api-[ab]: GET \/again\n$/);
  });

  it('SIGTERM: the demo exits 0', async () => {
    expect(processAlive(run.pid)).toBe(true);
    process.kill(run.pid, 'SIGTERM');
    expect(await run.exited).toEqual({ code: 0, signal: null });
  });
});

describe('pingora-ts --demo with an origin port taken', () => {
  it('one line naming the origin and the port, exit 1', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    try {
      const port = (taken.address() as import('node:net').AddressInfo).port;
      const ports = [await freePort(), await freePort(), port, await freePort(), await freePort()];
      const busy = runBinary(['--demo'], { PINGORA_TS_DEMO_PORTS: ports.join(',') });
      expect(await busy.exited).toEqual({ code: 1, signal: null });
      expect(busy.stderr()).toContain(
        `pingora-ts: demo origin api-a cannot listen on 127.0.0.1:${port}: listen EADDRINUSE: address already in use 127.0.0.1:${port}\n`,
      );
      expect(busy.stderr()).not.toMatch(/^\s+at /m);
    } finally {
      await new Promise<void>((r) => taken.close(() => r()));
    }
  });
});
