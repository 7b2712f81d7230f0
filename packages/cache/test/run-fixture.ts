/**
 * Test helper: a fixture script in its own Node process (tsx, on workspace sources), with waits on
 * its output lines, never on a clock.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const pkgDir = fileURLToPath(new URL('..', import.meta.url));
const running = new Set<ChildProcess>();

/** A running fixture. */
export interface Fixture {
  child: ChildProcess;
  /** Everything printed on stdout so far. */
  out(): string;
  /** Resolves with the first stdout line starting with `prefix` (rejects if the process exits first). */
  line(prefix: string): Promise<string>;
  exited: Promise<number | null>;
}

/** Starts `test/fixtures/<name>` with `args`. */
export function runFixture(name: string, args: string[]): Fixture {
  const script = fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=@pingora-ts/source', script, ...args],
    {
      cwd: pkgDir,
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  running.add(child);
  let out = '';
  let err = '';
  child.stdout?.on('data', (c: Buffer) => {
    out += c;
  });
  child.stderr?.on('data', (c: Buffer) => {
    err += c;
  });
  const exited = once(child, 'close').then(([code]) => {
    running.delete(child);
    return code as number | null;
  });
  const line = (prefix: string) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const found = out.split('\n').find((l) => l.startsWith(prefix));
        if (found === undefined) return false;
        child.stdout?.off('data', check);
        resolve(found);
        return true;
      };
      if (check()) return;
      child.stdout?.on('data', check);
      void exited.then(() => {
        if (!check()) reject(new Error(`fixture exited before "${prefix}": ${out}\n${err}`));
      });
    });
  return { child, out: () => out, line, exited };
}

/** Kills every fixture still running (for `afterEach`). */
export async function killFixtures(): Promise<void> {
  const waits = [...running].map((child) => {
    child.kill('SIGKILL');
    return once(child, 'close');
  });
  await Promise.all(waits);
}
