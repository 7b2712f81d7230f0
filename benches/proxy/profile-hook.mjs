/**
 * Preloaded into a benchmark target by `profile.ts` (`node --import`): SIGUSR2 starts the V8 CPU
 * profiler, the next SIGUSR2 stops it and writes the profile to `$PROFILE_OUT`, so the profile holds
 * the measured window only (no start-up, no warm-up), which `--cpu-prof` cannot do.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

const out = process.env.PROFILE_OUT ?? 'bench.cpuprofile';
const interval = Number(process.env.PROFILE_INTERVAL_US ?? 100);
const session = new Session();
session.connect();
let running = false;
process.on('SIGUSR2', () => {
  if (!running) {
    running = true;
    session.post('Profiler.enable', () =>
      session.post('Profiler.setSamplingInterval', { interval }, () => session.post('Profiler.start')),
    );
    return;
  }
  running = false;
  session.post('Profiler.stop', (err, res) => {
    if (!err) writeFileSync(out, JSON.stringify(res.profile));
    process.stderr.write(err ? `profile failed: ${err.message}\n` : `profile written: ${out}\n`);
  });
});
