/**
 * The `pingora-ts` binary in its own process, as a person runs it: its output as it comes, its
 * exit, and a sweep that kills every process it started (successors, workers) even when a test
 * fails before it learnt their pids.
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { processAlive, spawnTsFixture, waitFor } from '@pingora-ts/test-utils';

/** The binary of the `pingora-ts` package, run from source. */
export const BIN = fileURLToPath(new URL('../../pingora-ts/bin/pingora-ts.mjs', import.meta.url));

/** A running (or finished) binary and what it printed so far. */
export interface Run {
  readonly child: ChildProcess;
  readonly pid: number;
  stdout(): string;
  stderr(): string;
  /** Resolves at exit, once both output streams are closed. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Start the binary with `args`. The log is JSON (as when not on a terminal) at info level, so a
 * test can read pids and events from it; `env` is added on top.
 */
export function runBinary(args: string[], env: Record<string, string> = {}): Run {
  const child = spawnTsFixture(BIN, args, {
    env: { PINGORA_LOG_LEVEL: 'info', PINGORA_LOG_FORMAT: '', PINGORA_TS_DEBUG: '', ...env },
  });
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
  return { child, pid: child.pid!, stdout: () => out, stderr: () => err, exited };
}

/** The non-empty lines of `text`. */
export function linesOf(text: string): string[] {
  return text.split('\n').filter((l) => l !== '');
}

/** A scratch directory; every process whose command line names it is one of this test's. */
export function scratchDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Pids whose command line contains `text` (Linux /proc; none elsewhere). */
export function processesMentioning(text: string): number[] {
  let names: string[] = [];
  try {
    names = readdirSync('/proc').filter((n) => /^\d+$/.test(n));
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const name of names) {
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(text)) out.push(Number(name));
    } catch {}
  }
  return out;
}

/**
 * Ends `pids` and every process naming `dir` on its command line: SIGTERM, then SIGKILL for
 * whatever is still there after a generous wait. Then removes `dir`.
 */
export async function sweep(pids: Iterable<number>, dir?: string): Promise<void> {
  const all = new Set([...pids, ...(dir === undefined ? [] : processesMentioning(dir))]);
  all.delete(process.pid);
  for (const pid of all) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {}
  }
  try {
    await waitFor(() => [...all].every((pid) => !processAlive(pid)), { timeout: 15_000 });
  } catch {
    for (const pid of all) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    }
  }
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
}
