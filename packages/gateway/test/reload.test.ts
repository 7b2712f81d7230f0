/**
 * Reloading the gateway file under continuous load (keep-alive and `Connection: close` clients):
 * an invalid file on SIGHUP is refused with its mistakes while the same process serves on; a
 * valid one on SIGHUP, and again on SIGUSR2, is applied by a successor process; no request fails
 * at any step. Each answer says, in `x-gen`, which generation of the file served it.
 */
import { freePort, processAlive, waitFor } from '@pingora-ts/test-utils';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type Run, runBinary, scratchDir, sweep } from './cli-process.js';
import { type GenLoad, startGenLoad } from './reload-load.js';
import {
  genFile,
  listeningPids,
  startOrigin,
  successors,
  untilLogged,
  writeGen,
  writeInvalid,
} from './reload-harness.js';

const dir = scratchDir('pingora-gateway-reload-');
const pids = new Set<number>();
let load: GenLoad | undefined;
let stopOrigin: (() => Promise<void>) | undefined;

afterEach(async () => {
  await load?.stop();
  load = undefined;
  await stopOrigin?.();
  stopOrigin = undefined;
});
afterAll(() => sweep(pids, dir));

/** Waits for `count` more answers. */
async function answers(l: GenLoad, count: number, message: string): Promise<void> {
  const before = l.ok;
  await waitFor(() => l.ok >= before + count, { timeout: 60_000, message });
}

/** Sends `signal` to `main`; resolves with the successor it names once that one serves `gen` alone. */
async function upgradeTo(
  run: Run,
  main: number,
  signal: NodeJS.Signals,
  gen: number,
  l: GenLoad,
): Promise<number> {
  const seen = successors(run).length;
  process.kill(main, signal);
  await waitFor(() => successors(run).length > seen, { timeout: 90_000, message: `a successor of ${main}` });
  const next = successors(run)[seen]!;
  pids.add(next);
  await waitFor(() => (l.gens.get(String(gen)) ?? 0) > 0, {
    timeout: 30_000,
    message: `x-gen ${gen} answers`,
  });
  await waitFor(() => !processAlive(main), { timeout: 60_000, message: `the old server ${main} to exit` });
  // Once the old server is gone, every answer comes from the new file. Answers the old server
  // sent just before it exited may still be on their way to the client: let a few through first.
  await answers(l, 5, `answers in flight when ${main} exited`);
  const after = l.from();
  await answers(l, 20, `answers after ${main} exited`);
  expect([...after.keys()]).toEqual([String(gen)]);
  expect(processAlive(next)).toBe(true);
  return next;
}

describe('reload of the gateway file', () => {
  for (const threads of [1, 2]) {
    it(`threads: ${threads}: invalid on SIGHUP refused, valid on SIGHUP and SIGUSR2 applied, nothing lost`, async () => {
      const origin = await startOrigin();
      stopOrigin = origin.close;
      const f = genFile(dir, `gw-${threads}`, await freePort(), origin.port, threads);
      writeGen(f, 1);
      const run = runBinary(['-c', f.path]);
      pids.add(run.pid);
      await waitFor(() => listeningPids(run).length >= threads, { timeout: 60_000, message: 'listening' });
      load = startGenLoad(f.listen);
      await answers(load, 20, 'load running');
      expect([...load.gens.keys()]).toEqual(['1']);

      // (a) An invalid file: refused, its mistakes on stderr, the same process serves on.
      const problems = writeInvalid(f.path, f.listen);
      process.kill(run.pid, 'SIGHUP');
      await untilLogged(run, problems[1]!);
      expect(run.stderr()).toContain(
        `SIGHUP: ${f.path} not applied (2 problem(s)); still serving the running configuration\n${problems.join('\n')}\n`,
      );
      const refused = load.from();
      await answers(load, 40, 'answers after the refused reload');
      expect([...refused.keys()]).toEqual(['1']);
      expect(successors(run)).toEqual([]);
      expect(run.stderr()).not.toContain('successor started');
      expect(processAlive(run.pid)).toBe(true);

      // (b) A valid file on SIGHUP: a successor reads it; the old process exits.
      writeGen(f, 2);
      const second = await upgradeTo(run, run.pid, 'SIGHUP', 2, load);
      expect(run.stderr()).toContain(`SIGHUP: ${f.path} is valid; upgrading to it`);
      expect(second).not.toBe(run.pid);

      // (c) The upgrade signal itself reloads too (the successor handles signals as its parent did).
      writeGen(f, 3);
      const third = await upgradeTo(run, second, 'SIGUSR2', 3, load);
      expect(third).not.toBe(second);

      await load.stop();
      console.log(
        `reload threads=${threads}: ${load.ok} answers (${[...load.gens].map(([g, n]) => `gen ${g}: ${n}`).join(', ')}), ${load.failures.length} failed`,
      );
      expect(load.failures, load.failures.join('\n')).toEqual([]);
      expect(load.gens.get('1')).toBeGreaterThan(0);
      expect(load.gens.get('2')).toBeGreaterThan(0);
      process.kill(third, 'SIGTERM');
      await waitFor(() => !processAlive(third), { timeout: 30_000, message: 'the last server to exit' });
    }, 300_000);
  }

  it('SIGUSR2 with an invalid file: the successor refuses it, the running server serves on', async () => {
    const origin = await startOrigin();
    stopOrigin = origin.close;
    const f = genFile(dir, 'gw-bad-usr2', await freePort(), origin.port, 1);
    writeGen(f, 1);
    const run = runBinary(['-c', f.path]);
    pids.add(run.pid);
    await waitFor(() => listeningPids(run).length >= 1, { timeout: 60_000, message: 'listening' });
    load = startGenLoad(f.listen);
    await answers(load, 20, 'load running');
    const problems = writeInvalid(f.path, f.listen);
    process.kill(run.pid, 'SIGUSR2');
    await untilLogged(run, 'upgrade failed: the successor did not start; still serving', 90_000);
    expect(run.stderr()).toContain(`${problems.join('\n')}\n`);
    const after = load.from();
    await answers(load, 40, 'answers after the failed upgrade');
    expect([...after.keys()]).toEqual(['1']);
    await load.stop();
    expect(load.failures).toEqual([]);
    expect(processAlive(run.pid)).toBe(true);
    process.kill(run.pid, 'SIGTERM');
    expect(await run.exited).toEqual({ code: 0, signal: null });
  }, 180_000);
});
