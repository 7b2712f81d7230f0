import type http from 'node:http';
import { closeAll, deadPort, request, startOrigin, waitFor } from '@pingora-ts/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp, namedOrigins, startClusterProxy } from './test-support.js';

afterEach(closeAll);

async function times(n: number, url: string, headers: Record<string, string> = {}): Promise<string[]> {
  const bodies: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await request(url, { headers });
    expect(r.status).toBe(200);
    bodies.push(r.body);
  }
  return bodies;
}

describe('cluster selection through a real proxy', () => {
  it('round robin spreads requests evenly over three origins', async () => {
    const { origins, hits } = await namedOrigins(3);
    const url = await startClusterProxy(buildApp({ backends: origins.map((o) => o.addr) }));
    await times(30, `${url}/`);
    expect([...hits.entries()].sort()).toEqual([
      ['o0', 10],
      ['o1', 10],
      ['o2', 10],
    ]);
  });

  it('weights shape round robin: weight 3 gets three requests for every one of weight 1', async () => {
    const { origins, hits } = await namedOrigins(2);
    const cluster = buildApp({
      backends: [
        { address: origins[0]!.addr, weight: 3 },
        { address: origins[1]!.addr, weight: 1 },
      ],
    });
    const url = await startClusterProxy(cluster);
    await times(40, `${url}/`);
    expect(hits.get('o0')).toBe(30);
    expect(hits.get('o1')).toBe(10);
  });

  it('ketama sends the same hash_key to the same origin, and different keys spread', async () => {
    const { origins } = await namedOrigins(3);
    const url = await startClusterProxy(
      buildApp({ backends: origins.map((o) => o.addr), selection: 'ketama', hash_key: 'header:x-user' }),
    );
    const chosen = new Set<string>();
    for (let u = 0; u < 24; u++) {
      const bodies = await times(3, `${url}/`, { 'x-user': `user-${u}` });
      expect(new Set(bodies).size).toBe(1);
      chosen.add(bodies[0]!);
    }
    expect(chosen.size).toBeGreaterThan(1);
  });

  it('fnv hashes the path: one path, one origin', async () => {
    const { origins } = await namedOrigins(3);
    const url = await startClusterProxy(buildApp({ backends: origins.map((o) => o.addr), selection: 'fnv' }));
    const seen = new Set<string>();
    for (let p = 0; p < 12; p++) {
      const bodies = await times(3, `${url}/item/${p}?v=${p}`);
      expect(new Set(bodies).size).toBe(1);
      seen.add(bodies[0]!);
    }
    expect(seen.size).toBeGreaterThan(1);
  });

  it('a retry goes to a backend this request has not tried', async () => {
    const dead = [await deadPort(), await deadPort()];
    const live = await startOrigin((_req, res) => res.end('live'));
    const backends = [`127.0.0.1:${dead[0]}`, `127.0.0.1:${dead[1]}`, live.addr];
    // Random: a retry that ignored what was tried would pick a dead backend again about a third of the time.
    const url = await startClusterProxy(buildApp({ backends, retries: 2, selection: 'random' }));
    expect(await times(12, `${url}/`)).toEqual(new Array(12).fill('live'));
  });

  it('without retries a dead backend answers 502', async () => {
    const dead = await deadPort();
    const live = await startOrigin((_req, res) => res.end('live'));
    const url = await startClusterProxy(buildApp({ backends: [`127.0.0.1:${dead}`, live.addr], retries: 0 }));
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await request(`${url}/`)).status);
    expect(statuses.sort()).toEqual([200, 200, 502, 502]);
  });

  it("host_header replaces the Host sent upstream; without it the client's goes through", async () => {
    const origin = await startOrigin((req, res) => res.end(String(req.headers.host)));
    const fixed = await startClusterProxy(buildApp({ backends: [origin.addr], host_header: 'api.internal' }));
    expect((await request(`${fixed}/`, { headers: { host: 'client.example' } })).body).toBe('api.internal');
    const passed = await startClusterProxy(buildApp({ backends: [origin.addr] }));
    expect((await request(`${passed}/`, { headers: { host: 'client.example' } })).body).toBe(
      'client.example',
    );
  });

  it('a one-backend cluster retries on its only backend', () => {
    const cluster = buildApp({ backends: ['127.0.0.1:9'] });
    const ctx = { route: undefined, tried: [] as string[], release: undefined };
    const session = {} as never; // round robin reads nothing from the request
    const peers = [cluster.select(session, ctx), cluster.select(session, ctx)];
    expect(peers.map(String)).toEqual([
      'addr: 127.0.0.1:9, scheme: HTTP,',
      'addr: 127.0.0.1:9, scheme: HTTP,',
    ]);
    expect(ctx.tried).toEqual(['127.0.0.1:9', '127.0.0.1:9']);
  });

  it("least_connections: a retry gives the failed backend's lease back, release gives the last one back", () => {
    const cluster = buildApp({ backends: ['127.0.0.1:9', '127.0.0.2:9'], selection: 'least_connections' });
    const lb = cluster.loadBalancer;
    const [x, y] = lb.backends().getBackends();
    const ctx = { route: undefined, tried: [] as string[], release: undefined as (() => void) | undefined };
    cluster.select({} as never, ctx);
    const first = ctx.tried[0] === x!.addr ? x! : y!;
    const second = first === x ? y! : x!;
    expect(lb.inflight.get(first)).toBe(1);
    cluster.select({} as never, ctx);
    expect(ctx.tried).toEqual([first.addr, second.addr]);
    expect([lb.inflight.get(first), lb.inflight.get(second)]).toEqual([0, 1]);
    ctx.release!();
    expect([lb.inflight.get(first), lb.inflight.get(second)]).toEqual([0, 0]);
  });

  it('least_connections sends a request to the backend with fewer in flight, and releases leases', async () => {
    const held = new Map<string, http.ServerResponse[]>();
    const hold = (name: string) => (_req: http.IncomingMessage, res: http.ServerResponse) => {
      const list = held.get(name) ?? [];
      list.push(res);
      held.set(name, list);
    };
    const a = await startOrigin(hold('a'));
    const b = await startOrigin(hold('b'));
    const cluster = buildApp({ backends: [a.addr, b.addr], selection: 'least_connections' });
    const url = await startClusterProxy(cluster);
    const pending = () => [...held.values()].reduce((n, l) => n + l.length, 0);
    const whereIs = (n: number) => [...held.entries()].find(([, l]) => l.length >= n)?.[0];

    const r1 = request(`${url}/1`);
    await waitFor(() => pending() === 1, { message: 'the first request at an origin' });
    const first = whereIs(1)!;
    const other = first === 'a' ? 'b' : 'a';
    const r2 = request(`${url}/2`);
    await waitFor(() => pending() === 2, { message: 'the second request at an origin' });
    expect(held.get(other)).toHaveLength(1);

    held.get(other)!.shift()!.end('done');
    expect((await r2).body).toBe('done');
    const lb = cluster.loadBalancer;
    const backendOf = (name: string) =>
      lb
        .backends()
        .getBackends()
        .find((x) => x.addr === (name === 'a' ? a.addr : b.addr))!;
    await waitFor(() => lb.inflight.get(backendOf(other)) === 0, { message: 'the lease to be released' });

    // Round robin would now go back to `first`; least connections picks the idle one.
    const r3 = request(`${url}/3`);
    await waitFor(() => pending() === 2, { message: 'the third request at an origin' });
    expect(held.get(other)).toHaveLength(1);
    for (const list of held.values()) for (const res of list.splice(0)) res.end('done');
    await Promise.all([r1, r3]);
    await waitFor(() => lb.inflight.get(backendOf(first)) === 0 && lb.inflight.get(backendOf(other)) === 0, {
      message: 'every lease released',
    });
  });
});
