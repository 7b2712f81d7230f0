/**
 * The stampede: many clients ask at once for one key nobody has cached, and the origin takes a
 * while to answer, so every request arrives while the first is still being fetched. A cache with a
 * working lock sends one request to the origin and makes the others wait for it. Each round uses a
 * fresh key per target, so no round starts warm.
 */
import { burst } from '../lib/http-client.js';
import { percentile } from '../lib/percentile.js';
import { type CacheTarget, originCount, type TargetName } from './targets.js';

/** One burst against one target. */
export interface StampedeRound {
  /** Requests the origin got for the burst's key (1 with a working lock). */
  originRequests: number;
  /** Latency of the requests that succeeded, ms. */
  p50: number;
  p99: number;
  max: number;
  /** Requests that failed or were not answered 200. */
  errors: number;
  /** How long after the first request the last one was written, ms. */
  sendSpreadMs: number;
}

/** Rounds per target. */
export type StampedeResults = Partial<Record<TargetName, StampedeRound[]>>;

/** How big a stampede, and how many. */
export interface StampedeOptions {
  statsPort: number;
  clients: number;
  rounds: number;
  /** How long the origin takes to answer the key, ms. */
  originDelayMs: number;
}

/** Runs `rounds` bursts against every target, alternating which goes first. */
export async function runStampedes(
  targets: CacheTarget[],
  o: StampedeOptions,
  fail: (t: CacheTarget, e: unknown) => void,
): Promise<StampedeResults> {
  const results: StampedeResults = {};
  let live = [...targets];
  for (const t of live) results[t.name] = [];
  for (let round = 1; round <= o.rounds; round++) {
    const order = round % 2 === 1 ? live : [...live].reverse();
    for (const t of order) {
      const path = `/slow/stampede-${t.name}-${round}`;
      try {
        const b = await burst(t.port, path, o.clients);
        const ms = b.ok;
        const r: StampedeRound = {
          originRequests: (await originCount(o.statsPort, path)).path,
          p50: percentile(ms, 50),
          p99: percentile(ms, 99),
          max: Math.max(...ms),
          errors: b.errors.length,
          sendSpreadMs: b.sendSpreadMs,
        };
        results[t.name]!.push(r);
        const statuses = [...b.cacheStatus].map(([k, n]) => `, ${k} ${n}`).join('');
        console.error(
          `stampede round ${round} ${t.name}: ${o.clients} clients, origin requests ${r.originRequests}, p50 ${r.p50.toFixed(0)} ms, p99 ${r.p99.toFixed(0)} ms, max ${r.max.toFixed(0)} ms, errors ${r.errors}${b.errors[0] ? ` (first: ${b.errors[0]})` : ''}, last request sent ${r.sendSpreadMs.toFixed(0)} ms after the first${statuses}`,
        );
        if (r.sendSpreadMs > o.originDelayMs) {
          console.error(
            `  note: the last request was sent after the origin's ${o.originDelayMs} ms delay: the late requests may be plain hits, not waiters; raise ORIGIN_DELAY`,
          );
        }
      } catch (e) {
        fail(t, e);
        live = live.filter((x) => x !== t);
      }
    }
  }
  return results;
}
