/**
 * Processes of a benchmark run: the origin and the targets run as separate plain-node processes
 * (pingora-ts loads its built dist, as users run it), all killed when the run exits.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { waitForPort } from '@pingora-ts/test-utils';

export { freePort } from '@pingora-ts/test-utils';

const children: ChildProcess[] = [];
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

/** Kills `child` when the run exits; returns it. */
export function track(child: ChildProcess): ChildProcess {
  children.push(child);
  return child;
}

/** Runs `script` with plain node and `flags` (stderr shown, stdout ignored); killed at exit. */
export function spawnNode(script: string, args: Array<string | number>, flags: string[] = []): ChildProcess {
  return track(
    spawn(process.execPath, [...flags, script, ...args.map(String)], {
      stdio: ['ignore', 'ignore', 'inherit'],
    }),
  );
}

/** Waits until a target listens; a target loading its packages on a busy machine gets 10 s. */
export function waitForTarget(port: number): Promise<void> {
  return waitForPort(port, { tries: 200, intervalMs: 50 });
}

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/**
 * CPU seconds (user + system) used so far by process `pid` (Linux /proc). CPU time per request
 * barely moves when the machine is busy, so it compares targets where throughput is noisy.
 */
export function cpuSeconds(pid: number): number {
  const t = cpuTimes(pid);
  return t.user + t.system;
}

/**
 * CPU seconds used so far by process `pid`, split into user and system (kernel) time. The system
 * part is mostly the socket syscalls, which every proxy makes alike per request; the user part is
 * what the proxy's own code (and its runtime) costs.
 */
export function cpuTimes(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) / CLK_TCK, system: Number(fields[12]) / CLK_TCK };
}
