import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Elapsed } from './elapsed.js';
import { defaultTimerManager, fastTimeout, sleep, timeout, timeoutSignal } from './shared.js';

describe('free functions on the default manager, under vitest fake timers', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    // Drain everything so no bucket outlives the fake clock it was scheduled on.
    vi.runAllTimers();
    vi.useRealTimers();
  });

  it('use one shared manager', () => {
    expect(defaultTimerManager()).toBe(defaultTimerManager());
    const t = fastTimeout(() => {}, 10);
    expect(defaultTimerManager().pending).toBe(1);
    t.clear();
    expect(defaultTimerManager().pending).toBe(0);
  });

  it('timeout() rejects with Elapsed', async () => {
    const p = timeout(new Promise(() => {}), 1_000);
    const assertion = expect(p).rejects.toBeInstanceOf(Elapsed);
    await vi.advanceTimersByTimeAsync(1_000);
    await assertion;
  });

  it('timeout() resolves when the work finishes first', async () => {
    const p = timeout(new Promise<string>((resolve) => setTimeout(() => resolve('ok'), 200)), 1_000);
    await vi.advanceTimersByTimeAsync(200);
    await expect(p).resolves.toBe('ok');
    expect(defaultTimerManager().pending).toBe(0);
  });

  it('sleep() resolves after its duration', async () => {
    const done = vi.fn();
    void sleep(500).then(done);
    await vi.advanceTimersByTimeAsync(499);
    expect(done).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(20);
    expect(done).toHaveBeenCalledOnce();
  });

  it('fastTimeout() refreshes and fires', () => {
    const cb = vi.fn();
    const t = fastTimeout(cb, 100, 'arg');
    vi.advanceTimersByTime(90);
    t.refresh();
    vi.advanceTimersByTime(90);
    expect(cb).not.toHaveBeenCalled();
    vi.advanceTimersByTime(20);
    expect(cb).toHaveBeenCalledWith('arg');
  });

  it('timeoutSignal() aborts', () => {
    const signal = timeoutSignal(100);
    vi.advanceTimersByTime(100);
    expect(signal.reason).toBeInstanceOf(Elapsed);
  });
});
