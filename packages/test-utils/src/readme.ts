/** Keeps a package README's usage example honest: it must run as printed. */
import { mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Runs the first ```ts block of the README one directory above `testUrl` (the calling test's
 * `import.meta.url`) as a module inside the package, so its imports resolve as the package's users'
 * would. Resolves with the arguments of every `console.log` call made while it loaded (those calls
 * print nothing). The module is written under the package's `build/`, which lint, typecheck and git
 * ignore: turbo runs them alongside the tests.
 *
 * @example
 * ```ts
 * const logs = await runReadmeExample(import.meta.url);
 * expect(logs).toEqual([['hit']]);
 * ```
 */
export async function runReadmeExample(testUrl: string): Promise<unknown[][]> {
  const readme = readFileSync(fileURLToPath(new URL('../README.md', testUrl)), 'utf8');
  const example = /```ts\n(.*?)```/s.exec(readme)?.[1];
  if (example === undefined) throw new Error('the README has no ```ts block');
  const build = fileURLToPath(new URL('../build/', testUrl));
  const dir = join(build, `readme-example-${process.pid}`);
  const file = join(dir, 'readme-example.ts');
  const logs: unknown[][] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => {
    logs.push(args);
  };
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, example);
    await import(file);
  } finally {
    console.log = log;
    rmSync(dir, { recursive: true, force: true });
    if (readdirSync(build).length === 0) rmdirSync(build);
  }
  return logs;
}
