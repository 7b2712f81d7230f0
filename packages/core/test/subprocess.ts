/**
 * Running a fixture server in its own Node process (tsx, on workspace sources), for tests of what
 * a person sees: exit status, and stderr line by line. Every wait is on an event (output or exit),
 * never on a clock.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const pkgDir = fileURLToPath(new URL('..', import.meta.url));

/** A running fixture and what it has printed so far. */
export interface Fixture {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves at exit, once both output streams are closed. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Start `test/fixtures/<name>` with `args`; `env` is added to the test's environment. */
export function runFixture(name: string, args: string[], env: Record<string, string> = {}): Fixture {
  const script = fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=@pingora-ts/source', script, ...args],
    {
      cwd: pkgDir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        PINGORA_LOG_LEVEL: 'info',
        PINGORA_TS_DEBUG: '',
        PINGORA_LOG_FORMAT: '',
        ...env,
      },
    },
  );
  let out = '';
  let err = '';
  child.stdout?.on('data', (c: Buffer) => {
    out += c;
  });
  child.stderr?.on('data', (c: Buffer) => {
    err += c;
  });
  const exited = once(child, 'close').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Resolves when `read()` matches `re`, checked on each output chunk; rejects if the child exits first. */
export function untilOutput(f: Fixture, read: () => string, re: RegExp): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const m = read().match(re);
      if (m === null) return;
      f.child.stdout?.off('data', check);
      f.child.stderr?.off('data', check);
      resolve(m);
    };
    f.child.stdout?.on('data', check);
    f.child.stderr?.on('data', check);
    f.exited.then(() => {
      const m = read().match(re);
      if (m === null) reject(new Error(`exited before ${re}: ${read()}`));
      else resolve(m);
    });
    check();
  });
}

/** The non-empty lines of `text`. */
export function linesOf(text: string): string[] {
  return text.split('\n').filter((l) => l !== '');
}
