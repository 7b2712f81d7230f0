/**
 * Test programs in their own Node processes: start a TypeScript fixture on the workspace sources
 * (tsx, the `@pingora-ts/source` condition), and tell whether a process (often one the test did
 * not start itself: a worker, an upgraded server) is still running.
 */
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * Run the TypeScript file `script` with `args` in a new Node process, as the workspace's own
 * programs run: through tsx, on package sources. `env` is added to the test's environment.
 *
 * @example
 * ```ts
 * const child = spawnTsFixture(fileURLToPath(new URL('./fixtures/server.ts', import.meta.url)), ['-c', conf]);
 * ```
 */
export function spawnTsFixture(
  script: string,
  args: string[],
  options: SpawnOptions & { env?: Record<string, string | undefined> } = {},
): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', '--conditions=@pingora-ts/source', script, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...options,
    env: { ...process.env, ...options.env },
  });
}

/**
 * Whether process `pid` is running. An exited orphan may linger as a zombie when the container's
 * init does not reap it; that counts as gone.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return process.platform !== 'linux';
  }
}
