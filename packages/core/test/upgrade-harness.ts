/**
 * Shared by the upgrade tests: a fixture server per generation, its `SERVING` lines, continuous
 * load, and the check that a new generation answers.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processAlive, waitFor } from '@pingora-ts/test-utils';
import { afterAll, expect } from 'vitest';
import type { Load } from './load.js';
import { type Fixture, runFixture } from './subprocess.js';

export const dir = mkdtempSync(join(tmpdir(), 'pingora-upgrade-'));
export const pids = new Set<number>();

afterAll(() => {
  // Also every process started with a conf from this test's directory: a successor or worker
  // that a failed test never got to record must not outlive the run.
  for (const pid of [...pids, ...processesMentioning(dir)]) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
  rmSync(dir, { recursive: true, force: true });
});

/** Pids whose command line contains `text` (Linux /proc; none elsewhere). */
function processesMentioning(text: string): number[] {
  const out: number[] = [];
  let entries: import('node:fs').Dirent[] = [];
  try {
    entries = readdirSync('/proc', { withFileTypes: true });
  } catch {
    return out;
  }
  for (const name of entries) {
    if (!name.isDirectory() || !/^\d+$/.test(name.name)) continue;
    try {
      if (readFileSync(`/proc/${name.name}/cmdline`, 'utf8').includes(text)) out.push(Number(name.name));
    } catch {}
  }
  return out;
}

export function conf(name: string, threads: number): { path: string; sock: string } {
  const path = join(dir, `${name}.yaml`);
  const sock = join(dir, `${name}.sock`);
  writeFileSync(
    path,
    [
      'version: 1',
      `threads: ${threads}`,
      `upgrade_sock: ${sock}`,
      'grace_period_seconds: 10',
      'graceful_shutdown_timeout_seconds: 5',
      'upgrade_sock_connect_accept_max_retries: 20',
      '',
    ].join('\n'),
  );
  return { path, sock };
}

export function run(args: string[]): Fixture {
  const f = runFixture('worker-server.ts', args);
  pids.add(f.child.pid!);
  return f;
}

export function serving(text: string): Array<{ pid: number; port: number }> {
  return [...text.matchAll(/SERVING (\d+) (\d+)/g)].map((m) => ({ pid: Number(m[1]), port: Number(m[2]) }));
}

export async function slow(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/slow?ms=3000`, { headers: { connection: 'close' } });
  return `${res.status} ${await res.text()}`;
}

/** Wait for `count` new serving processes after `seen` lines, and for the load to reach one of them. */
export async function nextGeneration(
  read: () => string,
  seen: number,
  count: number,
  load: Load,
): Promise<number[]> {
  await waitFor(() => serving(read()).length >= seen + count, {
    timeout: 60_000,
    message: 'the new server serving',
  });
  const fresh = serving(read())
    .slice(seen, seen + count)
    .map((s) => s.pid);
  for (const pid of fresh) pids.add(pid);
  const listening = performance.now();
  await waitFor(() => fresh.some((pid) => load.pids.has(pid)), {
    timeout: 30_000,
    message: 'the load reaching it',
  });
  const firstAnswer = Math.min(...fresh.flatMap((pid) => load.pids.get(pid) ?? []));
  // How soon the new server answers new connections once it listens (printed for the note).
  console.log(
    `upgrade: first answer from the new server ${Math.max(0, firstAnswer - listening).toFixed(0)} ms after it reported listening`,
  );
  return fresh;
}

export async function finish(load: Load, lastMain: number, dump: () => string): Promise<void> {
  const before = load.ok;
  await waitFor(() => load.ok >= before + 20, { timeout: 30_000, message: 'more load served' });
  await load.stop();
  if (load.failures.length > 0) console.log(dump());
  expect(load.failures).toEqual([]);
  process.kill(lastMain, 'SIGTERM');
  await waitFor(() => !processAlive(lastMain), { timeout: 30_000, message: 'the last server to exit' });
}
