/**
 * Golden data recorded from a real nginx by test-data/record-nginx.ts (see test-data/README.md):
 * for each upstream set, the server nginx's `hash $arg_k consistent` picked for each key.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { assertImpl, IMPLS } from '../test/impls.js';
import { Bucket } from './bucket.js';
import { Continuum } from './continuum.js';

interface GoldenSet {
  name: string;
  servers: [string, number][];
  picks: [string, string][];
}
const golden = JSON.parse(
  readFileSync(new URL('../test-data/nginx-golden.json', import.meta.url), 'utf8'),
) as {
  nginx: string;
  sets: GoldenSet[];
};
const byName = new Map(golden.sets.map((s) => [s.name, s]));
const set = (name: string) => byName.get(name)!;

/** Sets whose addresses are canonical IPv4: nginx and pingora-ketama hash the same text. */
const SAME_TEXT = [
  'pingora-two',
  'three-v4',
  'two-v4-dropped',
  'weights-1-2-3',
  'ten',
  'eleven',
  'collide',
  'collide-reversed',
  'utf8-keys',
];
/** Sets with IPv6 or non-canonical spellings: the two hash different text. */
const DIFFERENT_TEXT = ['three-v6', 'mixed', 'spelling', 'hundred'];

describe.each(IMPLS)('nginx golden data (%s)', (impl) => {
  const build = (s: GoldenSet, compat: 'nginx' | 'pingora' = 'nginx') =>
    new Continuum(
      s.servers.map(([a, w]) => new Bucket(a, w)),
      { implementation: impl, compat },
    );

  it('was recorded from nginx and covers every kind of set', () => {
    assertImpl(impl);
    expect(golden.nginx).toMatch(/^nginx\/\d+\.\d+\.\d+/);
    expect(golden.sets.map((s) => s.name).sort()).toEqual([...SAME_TEXT, ...DIFFERENT_TEXT].sort());
    for (const s of golden.sets) expect(s.picks.length, s.name).toBeGreaterThanOrEqual(300);
  });

  it.each(golden.sets.map((s) => [s.name, s] as const))(
    '%s: every key picks the server nginx picked',
    (_, s) => {
      const c = build(s);
      expect(s.picks.filter(([key, upstream]) => c.node(key) !== upstream)).toEqual([]);
      expect(c.nodes(s.picks.map((p) => p[0]))).toEqual(s.picks.map((p) => p[1]));
    },
  );

  it("compat 'pingora' agrees with nginx on canonical IPv4 sets", () => {
    for (const name of SAME_TEXT) {
      const c = build(set(name), 'pingora');
      expect(
        set(name).picks.filter(([k, u]) => c.node(k) !== u),
        name,
      ).toEqual([]);
    }
  });

  it("compat 'pingora' disagrees with nginx once IPv6 or non-canonical text is involved", () => {
    for (const name of DIFFERENT_TEXT) {
      const c = build(set(name), 'pingora');
      const wrong = set(name).picks.filter(([k, u]) => c.node(k) !== u).length;
      expect(wrong, name).toBeGreaterThan(set(name).picks.length / 4);
    }
  });

  it('a point shared by two servers goes to the one listed first, in either order (glibc stable qsort)', () => {
    const fwd = set('collide');
    const rev = set('collide-reversed');
    const aimed = (s: GoldenSet) => s.picks.filter(([k]) => k.startsWith('collide-'));
    expect(aimed(fwd).length).toBeGreaterThanOrEqual(16);
    expect(new Set(aimed(fwd).map((p) => p[1]))).toEqual(new Set([fwd.servers[0]![0]]));
    expect(new Set(aimed(rev).map((p) => p[1]))).toEqual(new Set([rev.servers[0]![0]]));
    const c = build(rev);
    for (const [k] of aimed(rev)) expect(c.node(k)).toBe(rev.servers[0]![0]);
  });

  it('adding a server only moves keys onto the new server (ten -> eleven)', () => {
    const ten = new Map(set('ten').picks);
    const eleven = new Map(set('eleven').picks);
    const moved = [...ten.keys()].filter((k) => ten.get(k) !== eleven.get(k));
    expect(moved.length).toBeGreaterThan(0);
    expect(new Set(moved.map((k) => eleven.get(k)))).toEqual(new Set(['127.0.0.11:6443']));
    const c10 = build(set('ten'));
    const c11 = build(set('eleven'));
    for (const k of ten.keys()) if (!moved.includes(k)) expect(c11.node(k)).toBe(c10.node(k));
  });
});
