import { afterEach, describe, expect, it, vi } from 'vitest';
import { memoryLogger } from '../../test/helpers.js';
import { ShutdownController, type ShutdownWatch } from '../server/shutdown.js';
import { type BackgroundService, backgroundService, GenBackgroundService } from './background.js';

afterEach(() => {
  vi.useRealTimers();
});

class Ticker implements BackgroundService {
  ticks = 0;
  async start(shutdown: ShutdownWatch): Promise<void> {
    while (!shutdown.shuttingDown) {
      this.ticks++;
      await Promise.race([new Promise((r) => setTimeout(r, 1_000)), shutdown.wait()]);
    }
  }
}

describe('backgroundService', () => {
  it('names the service "BG name", exposes the task and runs until shutdown', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const task = new Ticker();
    const svc = backgroundService('ticker', task, memoryLogger());
    expect(svc).toBeInstanceOf(GenBackgroundService);
    expect(svc.name).toBe('BG ticker');
    expect(svc.threads).toBe(1);
    expect(svc.task()).toBe(task);
    const ctl = new ShutdownController();
    svc.start(ctl.watch);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(task.ticks).toBe(4);
    expect(svc.finished).toBe(false);
    ctl.shutdown(true);
    await svc.stop(true, 5_000);
    expect(svc.finished).toBe(true);
    expect(task.ticks).toBe(4);
  });

  it('logs a task that throws or rejects; stop still resolves', async () => {
    const log = memoryLogger();
    const sync = backgroundService(
      'sync',
      {
        start: () => {
          throw new Error('sync fail');
        },
      },
      log,
    );
    const async = backgroundService('async', { start: () => Promise.reject(new Error('async fail')) }, log);
    const ctl = new ShutdownController();
    expect(() => sync.start(ctl.watch)).not.toThrow();
    async.start(ctl.watch);
    await sync.stop(true, 1_000);
    await async.stop(true, 1_000);
    const errors = log.entries.filter((e) => e.level === 'error');
    expect(errors.map((e) => [e.obj.service, (e.obj.err as Error).message])).toEqual([
      ['BG sync', 'sync fail'],
      ['BG async', 'async fail'],
    ]);
    expect(sync.finished && async.finished).toBe(true);
  });

  it('stop gives up after the grace period on a task that ignores shutdown', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const log = memoryLogger();
    const svc = backgroundService('stuck', { start: () => new Promise<void>(() => {}) }, log);
    svc.start(new ShutdownController().watch);
    let stopped = false;
    const stopping = svc.stop(true, 2_000).then(() => {
      stopped = true;
    });
    await vi.advanceTimersByTimeAsync(1_999);
    expect(stopped).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await stopping;
    expect(log.entries.some((e) => e.msg === 'background service still running after grace period')).toBe(
      true,
    );
    expect(svc.finished).toBe(false);
  });

  it('uses the logger given at start when it has none of its own; a second start is ignored', async () => {
    const log = memoryLogger();
    let starts = 0;
    const svc = backgroundService('x', {
      start() {
        starts++;
        throw new Error('x');
      },
    });
    const ctl = new ShutdownController();
    svc.start(ctl.watch, log);
    svc.start(ctl.watch, log);
    await svc.stop(true, 0);
    expect(starts).toBe(1);
    expect(log.entries[0]?.obj.service).toBe('BG x');
  });
});
