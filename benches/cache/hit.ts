/**
 * The hit path: every target has the keys cached, then wrk loads it and the origin must see no
 * request at all while wrk runs. Two shapes: one URL, and 100 URLs cycled by a wrk script. Rounds
 * alternate the targets' order (A B, B A, …) so neither always runs right after the other.
 */
import { join } from 'node:path';
import { fetchAll } from '../lib/http-client.js';
import { cpuSeconds } from '../lib/procs.js';
import { wrk } from '../lib/wrk.js';
import { type CacheTarget, originCount, type TargetName } from './targets.js';

/** One way of loading the hit path. */
interface Scenario {
  name: string;
  /** What wrk requests: the URL's path, or a script that picks the path. */
  wrkArgs: string[];
  path: string;
  /** Every path the scenario requests, cached before the first round. */
  keys: string[];
}

/** One round of one target in one scenario. */
export interface HitRound {
  rps: number;
  /** ms */
  p99: number;
  /** CPU time (user + system) of the proxy process per request, µs. */
  cpuUs: number;
  /** Requests the origin got while wrk ran: 0 when every request was a hit. */
  originRequests: number;
  /** wrk's error lines, if any. */
  errors: string;
}

/** Rounds per scenario and target: `results[scenario][target]`. */
export type HitResults = Record<string, Partial<Record<TargetName, HitRound[]>>>;

/** How long and how hard to load. */
export interface HitOptions {
  here: string;
  statsPort: number;
  durationS: number;
  warmupS: number;
  rounds: number;
  connections: number;
}

/** The scenarios the benchmark runs, by name. */
export function scenarios(here: string): Scenario[] {
  const many = Array.from({ length: 100 }, (_, i) => `/hit/k${i + 1}`);
  return [
    { name: '1 URL', wrkArgs: [], path: '/hit/one', keys: ['/hit/one'] },
    { name: '100 URLs', wrkArgs: ['-s', join(here, 'hit-keys.lua')], path: '/hit/k1', keys: many },
  ];
}

/** Runs every scenario against every target; a target that fails is reported and dropped. */
export async function runHits(
  targets: CacheTarget[],
  o: HitOptions,
  fail: (t: CacheTarget, e: unknown) => void,
): Promise<HitResults> {
  const results: HitResults = {};
  for (const s of scenarios(o.here)) {
    const per: Partial<Record<TargetName, HitRound[]>> = {};
    results[s.name] = per;
    let live = [...targets];
    for (const t of live) {
      const warm = await fetchAll(t.port, s.keys, 10);
      if (warm.errors.length > 0) throw new Error(`${t.name}: warming failed: ${warm.errors[0]}`);
      wrk(
        ['-t1', `-c${o.connections}`, `-d${o.warmupS}s`, ...s.wrkArgs],
        `http://127.0.0.1:${t.port}${s.path}`,
      );
      per[t.name] = [];
    }
    for (let round = 1; round <= o.rounds; round++) {
      const order = round % 2 === 1 ? live : [...live].reverse();
      for (const t of order) {
        try {
          const r = await measure(t, s, o);
          per[t.name]!.push(r);
          console.error(
            `hit ${s.name} round ${round} ${t.name}: ${Math.round(r.rps)} req/s, p99 ${r.p99} ms, ${r.cpuUs.toFixed(1)} µs CPU/req, origin requests during the run: ${r.originRequests}${r.errors ? `, ${r.errors}` : ''}`,
          );
        } catch (e) {
          fail(t, e);
          live = live.filter((x) => x !== t);
        }
      }
    }
  }
  return results;
}

async function measure(t: CacheTarget, s: Scenario, o: HitOptions): Promise<HitRound> {
  const origin0 = (await originCount(o.statsPort)).total;
  const cpu0 = cpuSeconds(t.pid);
  const m = wrk(
    ['-t1', `-c${o.connections}`, `-d${o.durationS}s`, '--latency', ...s.wrkArgs],
    `http://127.0.0.1:${t.port}${s.path}`,
  );
  const cpuUs = ((cpuSeconds(t.pid) - cpu0) / m.requests) * 1e6;
  const originRequests = (await originCount(o.statsPort)).total - origin0;
  if (!(m.requests > 0))
    throw new Error(`${t.name}: wrk completed no request (${m.errors || 'no error line'})`);
  return { rps: m.rps, p99: m.p99, cpuUs, originRequests, errors: m.errors };
}
