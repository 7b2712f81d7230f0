import { afterEach, describe, expect, it, vi } from 'vitest';
import { coarseClock, monotonicClock } from './clock.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('clocks', () => {
  it('monotonicClock reads performance.now()', () => {
    const spy = vi.spyOn(performance, 'now').mockReturnValue(1234.5);
    expect(monotonicClock()).toBe(1234.5);
    expect(spy).toHaveBeenCalledTimes(1);
  });

  it('coarseClock reads the time once per resolution', async () => {
    vi.useFakeTimers();
    let now = 100;
    const spy = vi.spyOn(performance, 'now').mockImplementation(() => now);
    const clock = coarseClock(5);
    expect(clock()).toBe(100);
    now = 103;
    expect(clock()).toBe(100);
    expect(spy).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(5);
    expect(clock()).toBe(103);
    expect(spy).toHaveBeenCalledTimes(2);
  });
});
