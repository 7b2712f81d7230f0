import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as rootModule from './index.js';

const { root, members } = JSON.parse(readFileSync(new URL('../members.json', import.meta.url), 'utf8')) as {
  root: string[];
  members: string[];
};

describe('pingora-ts meta package', () => {
  it.each(members)('pingora-ts/%s re-exports every export of @pingora-ts/%s', async (m) => {
    const sub = (await import(`./${m}.ts`)) as Record<string, unknown>;
    const member = (await import(`@pingora-ts/${m}`)) as Record<string, unknown>;
    const names = Object.keys(member).sort();
    expect(names.length).toBeGreaterThan(0);
    expect(Object.keys(sub).sort()).toEqual(names);
    for (const n of names) expect(sub[n], n).toBe(member[n]);
  });

  it('the root re-exports the root members, the same objects', async () => {
    for (const m of root) {
      const member = (await import(`@pingora-ts/${m}`)) as Record<string, unknown>;
      for (const [n, v] of Object.entries(member)) expect((rootModule as Record<string, unknown>)[n], n).toBe(v);
    }
  });

  it('package.json has a subpath and a dependency per member', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    for (const m of members) {
      expect(pkg.exports[`./${m}`]).toBeDefined();
      expect(pkg.dependencies[`@pingora-ts/${m}`]).toBe('workspace:*');
    }
  });
});
