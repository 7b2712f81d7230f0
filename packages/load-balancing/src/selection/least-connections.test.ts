import { describe, expect, it } from 'vitest';
import { Backend } from '../backend.js';
import { InflightCounters } from '../inflight.js';
import { LeastConnections } from './least-connections.js';

function setup(weights: number[]) {
  const inflight = new InflightCounters();
  const backends = weights.map((w, i) => new Backend(`10.0.0.${i + 1}:80`, w));
  return { inflight, backends, sel: LeastConnections.build(backends, { inflight }) };
}

describe('LeastConnections', () => {
  it('idle backends share picks round robin', () => {
    const { backends, sel } = setup([1, 1, 1]);
    const picks = Array.from({ length: 6 }, () => sel.iter('').next());
    expect(picks).toEqual([...backends, ...backends]);
  });

  it('picks the backend with the fewest in-flight requests', () => {
    const { backends, sel, inflight } = setup([1, 1, 1]);
    inflight.lease(backends[0]!);
    inflight.lease(backends[0]!);
    const busy = inflight.lease(backends[1]!);
    for (let i = 0; i < 3; i++) expect(sel.iter('').next()).toBe(backends[2]);
    busy.release();
    busy.release(); // idempotent
    expect(inflight.get(backends[1]!)).toBe(0);
    expect(inflight.get(backends[0]!)).toBe(2);
    for (let i = 0; i < 6; i++) expect([backends[1], backends[2]]).toContain(sel.iter('').next());
  });

  it('divides by weight: 3 requests on weight 3 is lighter than 2 on weight 1', () => {
    const { backends, sel, inflight } = setup([3, 1]);
    for (let i = 0; i < 3; i++) inflight.lease(backends[0]!);
    for (let i = 0; i < 2; i++) inflight.lease(backends[1]!);
    expect(sel.iter('').next()).toBe(backends[0]);
  });

  it('weight 0 is picked only when nothing else is left', () => {
    const { backends, sel, inflight } = setup([0, 1]);
    for (let i = 0; i < 50; i++) inflight.lease(backends[1]!);
    const it = sel.iter('');
    expect(it.next()).toBe(backends[1]);
    expect(it.next()).toBe(backends[0]);
  });

  it('fallbacks are the next lightest, each once, then the end', () => {
    const { backends, sel, inflight } = setup([1, 1, 1]);
    inflight.lease(backends[0]!);
    for (let i = 0; i < 2; i++) inflight.lease(backends[2]!);
    const it = sel.iter('');
    expect([it.next(), it.next(), it.next(), it.next()]).toEqual([
      backends[1],
      backends[0],
      backends[2],
      undefined,
    ]);
    expect(LeastConnections.build([], { inflight }).iter('').next()).toBeUndefined();
  });

  it('counts survive a rebuild; prune forgets idle counters of removed backends only', () => {
    const { backends, inflight } = setup([1, 1]);
    const lease = inflight.lease(backends[0]!);
    const rebuilt = LeastConnections.build([new Backend('10.0.0.1:80'), new Backend('10.0.0.2:80')], {
      inflight,
    });
    expect(rebuilt.cells[0]!.count).toBe(1);
    inflight.prune([]);
    expect(inflight.get(backends[0]!)).toBe(1); // still busy: kept
    lease.release();
    inflight.prune([]);
    expect(inflight.get(backends[0]!)).toBe(0);
  });
});
