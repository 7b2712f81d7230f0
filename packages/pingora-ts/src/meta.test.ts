/// <reference types="vite/client" />
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as rootModule from './index.js';

const { root, members } = JSON.parse(readFileSync(new URL('../members.json', import.meta.url), 'utf8')) as {
  root: string[];
  members: string[];
};

// Every generated subpath module, loaded through vite so workspace imports resolve to source.
const subpaths = import.meta.glob<Record<string, unknown>>(['./*.ts', '!./*.test.ts', '!./index.ts']);

describe('pingora-ts meta package', () => {
  it('has exactly one subpath module per member', () => {
    expect(Object.keys(subpaths).sort()).toEqual(members.map((m) => `./${m}.ts`).sort());
  });

  it.each(members)('pingora-ts/%s re-exports every export of @pingora-ts/%s', async (m) => {
    const sub = await subpaths[`./${m}.ts`]!();
    const member = (await import(`@pingora-ts/${m}`)) as Record<string, unknown>;
    const names = Object.keys(member).sort();
    expect(names.length).toBeGreaterThan(0);
    expect(Object.keys(sub).sort()).toEqual(names);
    for (const n of names) expect(sub[n], n).toBe(member[n]);
  });

  it('the root re-exports the root members, the same objects', async () => {
    for (const m of root) {
      const member = (await import(`@pingora-ts/${m}`)) as Record<string, unknown>;
      for (const [n, v] of Object.entries(member))
        expect((rootModule as Record<string, unknown>)[n], n).toBe(v);
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
