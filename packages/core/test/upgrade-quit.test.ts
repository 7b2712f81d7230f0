/**
 * Zero-downtime upgrade by Pingora's protocol, under continuous load (keep-alive and
 * `Connection: close` clients), three in a row, with one process and with worker processes: a new
 * process started with `-u` receives the listening sockets over `upgrade_sock` (core's native
 * addon) after SIGQUIT to the old one. No request fails; a slow request in flight on the first
 * server completes.
 */
import { existsSync } from 'node:fs';
import { waitFor } from '@pingora-ts/test-utils';
import { describe, expect, it } from 'vitest';
import { fdPassingAvailable } from '../src/server/upgrade/fd-passing.js';
import { startLoad } from './load.js';
import { conf, finish, nextGeneration, run, serving, slow } from './upgrade-harness.js';

describe.skipIf(process.env.PINGORA_TS_NATIVE === '0')(
  'SIGQUIT: Pingora protocol with -u (native addon)',
  () => {
    for (const threads of [1, 2]) {
      it(`threads: ${threads}: three upgrades under load lose nothing`, async () => {
        // Without the addon this fails loudly instead of skipping (PINGORA_TS_NATIVE=0 skips it).
        expect(fdPassingAvailable()).toBe(true);
        const { path, sock } = conf(`quit-${threads}`, threads);
        let cur = run(['-c', path]);
        const logs: string[] = [];
        await waitFor(() => serving(cur.stdout()).length === threads, {
          timeout: 60_000,
          message: 'serving',
        });
        const { port } = serving(cur.stdout())[0]!;
        const load = startLoad(port, 2);
        await waitFor(() => load.ok >= 20, { timeout: 30_000, message: 'load running' });
        const inFlight = slow(port);
        const firstGeneration = serving(cur.stdout()).map((x) => x.pid);
        for (let round = 1; round <= 3; round++) {
          const next = run(['-u', '-c', path]);
          const old = cur;
          logs.push(`--- round ${round}`);
          next.exited.then(() => logs.push(`next stderr:\n${next.stderr()}`));
          void old.exited.then(() => logs.push(`old stderr:\n${old.stderr()}`));
          await waitFor(() => existsSync(sock), {
            timeout: 60_000,
            message: 'the new process waiting on upgrade_sock',
          });
          const exited = new Promise<number | null>((resolve) =>
            cur.child.once('exit', (code) => resolve(code)),
          );
          cur.child.kill('SIGQUIT');
          const fresh = await nextGeneration(next.stdout, 0, threads, load);
          expect(serving(next.stdout())[0]!.port).toBe(port);
          expect(fresh).not.toContain(cur.child.pid);
          expect(await exited).toBe(0);
          expect(cur.stderr()).toMatch(/listening sockets handed over/);
          cur = next;
        }
        const [status, , pid] = (await inFlight).split(' ');
        expect(status).toBe('200');
        expect(firstGeneration).toContain(Number(pid));
        await finish(load, cur.child.pid!, () => logs.join('\n'));
      }, 180_000);
    }
  },
);
