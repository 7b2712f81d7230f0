import { Backend } from '@pingora-ts/load-balancing';
import { waitFor } from '@pingora-ts/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import * as healthKetama from './health-ketama.js';
import { startDemoOrigin } from './lib/demo-origins.js';
import { closeAll, onClose, origin, track } from './lib/testing.js';

afterEach(closeAll);

async function served(port: number, path: string, headers: Record<string, string> = {}): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers });
  expect(res.status).toBe(200);
  return (await res.text()).trim();
}

const KEYS = Array.from({ length: 24 }, (_, i) => `/user/${i}`);

describe('health-ketama example', () => {
  it('keeps keys on their origin, moves only a dead origin’s keys to the next on the ring, and brings them back', async () => {
    const os = [await origin('a'), await origin('b'), await origin('c')];
    const byAddr = new Map(os.map((o) => [o.addr, `hello from ${o.name}`]));
    // Checked every 50 ms so the flips land quickly; waits below are capped by waitFor, not timed.
    const r = track(
      await healthKetama.main(
        0,
        os.map((o) => o.addr),
        50,
      ),
    );
    const port = r.ports[0]!;
    const lb = r.upstreams;
    await waitFor(() => os.every((o) => lb.backends().ready(new Backend(o.addr))), {
      message: 'the first health check to pass for every origin',
    });

    const before = new Map<string, string>();
    for (const k of KEYS) before.set(k, await served(port, k));
    // Sticky: asking again (with a query string too) gives the same origin.
    for (const k of KEYS) expect(await served(port, `${k}?again=1`)).toBe(before.get(k));
    // The header wins over the path.
    expect(await served(port, '/anything', { 'x-shard-key': KEYS[0]! })).toBe(before.get(KEYS[0]!));
    // The ring is built from the origins' (random) ports, so who owns what varies by run; 24 keys
    // land on a single origin with odds of about 3^-23, so some keys always stay on the others.
    expect(new Set(before.values()).size).toBeGreaterThan(1);

    // The origin owning KEYS[0] dies. Where its keys go: the next distinct address on the ring.
    const victim = os.find((o) => `hello from ${o.name}` === before.get(KEYS[0]!))!;
    const nextOnRing = (key: string) => {
      const it = lb.selector.iter(key);
      for (let b = it.next(); b !== undefined; b = it.next()) if (b.addr !== victim.addr) return b.addr;
      throw new Error('ring has a single origin');
    };
    const port0 = victim.port;
    await victim.close();
    await waitFor(() => !lb.backends().ready(new Backend(victim.addr)), {
      message: 'the health check to mark the stopped origin down',
    });
    const victimBody = `hello from ${victim.name}`;
    let moved = 0;
    for (const k of KEYS) {
      const now = await served(port, k);
      if (before.get(k) === victimBody) {
        moved++;
        expect(now).toBe(byAddr.get(nextOnRing(k)));
      } else {
        expect(now).toBe(before.get(k)); // consistency: other keys stay where they were
      }
    }
    expect(moved).toBeGreaterThan(0);

    // It comes back on the same port: once the check passes, its keys return.
    const revived = await startDemoOrigin(victim.name, port0);
    onClose(() => revived.close());
    await waitFor(() => lb.backends().ready(new Backend(victim.addr)), {
      message: 'the health check to mark the restarted origin up',
    });
    for (const k of KEYS) expect(await served(port, k)).toBe(before.get(k));
  });

  it('answers 502 when every origin is down', async () => {
    const o = await origin('only');
    const r = track(await healthKetama.main(0, [o.addr], 50));
    await o.close();
    await waitFor(() => !r.upstreams.backends().ready(new Backend(o.addr)), {
      message: 'the only origin to be marked down',
    });
    const res = await fetch(`http://127.0.0.1:${r.ports[0]!}/user/1`);
    expect(res.status).toBe(502);
  });
});
