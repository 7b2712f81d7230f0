/**
 * Worker processes end to end: `threads: 2` makes a main process and two workers sharing the
 * listening socket; the background task runs once, in the main process, and what it publishes
 * reaches every worker, including a worker started later to replace one that died.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processAlive, waitFor } from '@pingora-ts/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { refused } from './helpers.js';
import { startLoad } from './load.js';
import { type Fixture, runFixture, untilOutput } from './subprocess.js';

const dir = mkdtempSync(join(tmpdir(), 'pingora-workers-'));
const started: Fixture[] = [];

afterAll(() => {
  for (const f of started) f.child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function conf(name: string, threads: number): string {
  const path = join(dir, `${name}.yaml`);
  writeFileSync(
    path,
    `version: 1\nthreads: ${threads}\ngrace_period_seconds: 10\ngraceful_shutdown_timeout_seconds: 5\n`,
  );
  return path;
}

function run(args: string[]): Fixture {
  const f = runFixture('worker-server.ts', args);
  started.push(f);
  return f;
}

/** Every `SERVING <pid> <port>` line so far. */
function serving(f: Fixture): Array<{ pid: number; port: number }> {
  return [...f.stdout().matchAll(/SERVING (\d+) (\d+)/g)].map((m) => ({
    pid: Number(m[1]),
    port: Number(m[2]),
  }));
}

function follows(f: Fixture): Array<{ pid: number; from: number }> {
  return [...f.stdout().matchAll(/FOLLOW (\d+) (\d+)/g)].map((m) => ({
    pid: Number(m[1]),
    from: Number(m[2]),
  }));
}

describe('threads: 2 (worker processes)', () => {
  it('two workers serve one port; the background task runs once, in the main process, and reaches both', async () => {
    const f = run(['-c', conf('two', 2)]);
    await waitFor(() => serving(f).length === 2 && follows(f).length === 2, {
      timeout: 60_000,
      message: 'two workers serving and following',
    });
    const main = f.child.pid!;
    const workers = serving(f);
    expect(new Set(workers.map((w) => w.port)).size).toBe(1);
    expect(workers.map((w) => w.pid)).not.toContain(main);
    // The task ran in the main process only: one STARTED line, with the main pid.
    expect([...f.stdout().matchAll(/STARTED (\d+)/g)].map((m) => Number(m[1]))).toEqual([main]);
    expect(follows(f).map((x) => x.from)).toEqual([main, main]);
    expect(new Set(follows(f).map((x) => x.pid))).toEqual(new Set(workers.map((w) => w.pid)));

    // Requests are served by the workers, never by the main process.
    const load = startLoad(workers[0]!.port, 2);
    await waitFor(() => load.ok >= 40, { timeout: 30_000, message: '40 responses' });
    await load.stop();
    expect(load.failures).toEqual([]);
    for (const pid of load.pids.keys()) expect(workers.map((w) => w.pid)).toContain(pid);

    const exited = new Promise<number | null>((resolve) => f.child.once('exit', (code) => resolve(code)));
    f.child.kill('SIGTERM');
    expect(await exited).toBe(0);
    for (const w of workers)
      await waitFor(() => !processAlive(w.pid), { timeout: 20_000, message: `worker ${w.pid} gone` });
    expect(await refused(workers[0]!.port)).toBe(true);
  });

  it('a worker that dies is replaced, and the replacement gets what the main process published', async () => {
    const f = run(['-c', conf('crash', 2)]);
    await waitFor(() => serving(f).length === 2 && follows(f).length === 2, {
      timeout: 60_000,
      message: 'two workers serving and following',
    });
    const { port } = serving(f)[0]!;
    const before = serving(f).map((w) => w.pid);
    const res = await fetch(`http://127.0.0.1:${port}/crash`, { headers: { connection: 'close' } });
    expect(res.status).toBe(200);
    await untilOutput(f, f.stderr, /worker died; replacing it/);
    await waitFor(() => serving(f).length === 3 && follows(f).length === 3, {
      timeout: 60_000,
      message: 'a replacement worker serving and following',
    });
    const replacement = serving(f)[2]!;
    expect(before).not.toContain(replacement.pid);
    expect(replacement.port).toBe(port);
    expect(follows(f)[2]).toEqual({ pid: replacement.pid, from: f.child.pid });

    const exited = new Promise<number | null>((resolve) => f.child.once('exit', (code) => resolve(code)));
    f.child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('a bind error is one line from the main process, which exits 1', async () => {
    const holder = run(['-c', conf('holder', 1)]);
    await waitFor(() => serving(holder).length === 1, { timeout: 60_000, message: 'the holder serving' });
    const { port } = serving(holder)[0]!;
    const f = run(['-c', conf('clash', 2), '--', `127.0.0.1:${port}`]);
    const { code } = await f.exited;
    expect(code).toBe(1);
    expect(f.stderr()).toMatch(
      new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: address already in use`),
    );
    expect(serving(f)).toEqual([]);
    holder.child.kill('SIGTERM');
    await holder.exited;
  });

  it('daemon: the launcher returns once the workers serve; pid_file holds the main pid; output goes to error_log', async () => {
    const pidFile = join(dir, 'd.pid');
    const errorLog = join(dir, 'd.log');
    const path = join(dir, 'daemon.yaml');
    writeFileSync(
      path,
      `version: 1\nthreads: 2\ndaemon: true\ndaemon_wait_for_ready: true\npid_file: ${pidFile}\nerror_log: ${errorLog}\ngrace_period_seconds: 5\n`,
    );
    const launcher = run(['-c', path]);
    expect((await launcher.exited).code).toBe(0);
    const main = Number(readFileSync(pidFile, 'utf8'));
    expect(processAlive(main)).toBe(true);
    const log = () => readFileSync(errorLog, 'utf8');
    const workers = [...log().matchAll(/SERVING (\d+) (\d+)/g)].map((m) => Number(m[1]));
    expect(workers).toHaveLength(2);
    expect(workers).not.toContain(main);
    process.kill(main, 'SIGTERM');
    await waitFor(() => !processAlive(main) && workers.every((w) => !processAlive(w)), {
      timeout: 30_000,
      message: 'the daemon and its workers to exit',
    });
    expect(log()).toMatch(/All services stopped, exiting/);
  });
});
