/**
 * Zero-downtime upgrade by SIGUSR2, under continuous load (keep-alive and `Connection: close`
 * clients), three in a row, with one process and with worker processes: the server starts its
 * successor, which inherits the listening sockets (no compiler needed). No request fails; a slow
 * request in flight on the first server completes; the time from the new server listening to its
 * first answer is printed.
 */
import { processAlive, waitFor } from '@pingora-ts/test-utils';
import { describe, expect, it } from 'vitest';
import { startLoad } from './load.js';
import { conf, finish, nextGeneration, pids, run, serving, slow } from './upgrade-harness.js';

describe('SIGUSR2: the server starts its successor', () => {
  for (const threads of [1, 2]) {
    it(`threads: ${threads}: three upgrades under load lose nothing`, async () => {
      const { path } = conf(`usr2-${threads}`, threads);
      const f = run(['-c', path]);
      await waitFor(() => serving(f.stdout()).length === threads, { timeout: 60_000, message: 'serving' });
      const { port } = serving(f.stdout())[0]!;
      const load = startLoad(port, 2);
      await waitFor(() => load.ok >= 20, { timeout: 30_000, message: 'load running' });
      const inFlight = slow(port);
      const firstGeneration = serving(f.stdout()).map((x) => x.pid);
      let main = f.child.pid!;
      for (let round = 1; round <= 3; round++) {
        const seen = serving(f.stdout()).length;
        process.kill(main, 'SIGUSR2');
        await nextGeneration(f.stdout, seen, threads, load);
        const successorsOf = () => [...f.stderr().matchAll(/"successor":(\d+)/g)].map((m) => Number(m[1]));
        await waitFor(() => successorsOf().length === round, {
          timeout: 30_000,
          message: 'the old server to hand over',
        });
        const successors = successorsOf();
        const old = main;
        main = successors[round - 1]!;
        pids.add(main);
        await waitFor(() => !processAlive(old), { timeout: 30_000, message: `old server ${old} to exit` });
      }
      // Served to the end by the first generation, which had stopped accepting long before.
      const [status, , pid] = (await inFlight).split(' ');
      expect(status).toBe('200');
      expect(firstGeneration).toContain(Number(pid));
      await finish(load, main, () => f.stderr());
    }, 180_000);
  }
});
