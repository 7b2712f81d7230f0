/**
 * Preloaded into a benchmark target by `profile.ts` (`node --import`): SIGUSR2 starts a profiler,
 * the next SIGUSR2 stops it and writes the profile to `$PROFILE_OUT`, so the profile holds the
 * measured window only (no start-up, no warm-up), which `--cpu-prof` cannot do.
 * `PROFILE_KIND=cpu` (default) samples the CPU; `PROFILE_KIND=heap` samples allocations, counting
 * the objects that young- and old-generation collections have already freed, so the profile shows
 * everything a request allocates, not what happens to survive.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

const out = process.env.PROFILE_OUT ?? 'bench.cpuprofile';
const heap = process.env.PROFILE_KIND === 'heap';
const interval = Number(process.env.PROFILE_INTERVAL_US ?? 100);
const heapInterval = Number(process.env.PROFILE_HEAP_INTERVAL ?? 512);
const session = new Session();
session.connect();
let running = false;

function start() {
  if (heap) {
    session.post('HeapProfiler.enable', () =>
      session.post('HeapProfiler.startSampling', {
        samplingInterval: heapInterval,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      }),
    );
    return;
  }
  session.post('Profiler.enable', () =>
    session.post('Profiler.setSamplingInterval', { interval }, () => session.post('Profiler.start')),
  );
}

function stop() {
  session.post(heap ? 'HeapProfiler.stopSampling' : 'Profiler.stop', (err, res) => {
    if (!err) writeFileSync(out, JSON.stringify(res.profile));
    process.stderr.write(err ? `profile failed: ${err.message}\n` : `profile written: ${out}\n`);
  });
}

process.on('SIGUSR2', () => {
  running = !running;
  if (running) start();
  else stop();
});
