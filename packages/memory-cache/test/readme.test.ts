import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it, vi } from 'vitest';

// The README's usage example must run as printed, and print what its comments say.
const readme = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');
const example = /```ts\n(.*?)```/s.exec(readme)![1]!;
const file = fileURLToPath(new URL('./readme-example.tmp.ts', import.meta.url));

afterAll(() => rmSync(file, { force: true }));

it('README usage example runs and prints what it says', async () => {
  writeFileSync(file, example);
  const logs: unknown[][] = [];
  vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
    logs.push(args);
  });
  await import(file);
  expect(logs).toEqual([
    [{ user: 1 }, 'hit'],
    [true],
    [['miss', 'lock_hit', 'lock_hit'], 1],
    ['hit'],
    [['addr of a.example: miss', 'addr of b.example: miss']],
  ]);
});
