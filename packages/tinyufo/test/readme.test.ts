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
  const logs: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
    logs.push(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
  });
  await import(file);
  expect(logs).toEqual(['alpha', 'evicted /a (307200 bytes)', '7', '[3]', '[2]']);
});
