import { afterEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../test/manual-clock.js';
import { TimerManager } from './timer-manager.js';

function setup(start = 0) {
  const clock = new ManualClock(start);
  return { clock, timers: new TimerManager({ provider: clock }) };
}

describe('TimerManager buckets', () => {
  it('rounds deadlines up to 10 ms on its own timeline (128 → 130)', () => {
    const { clock, timers } = setup(5_000);
    const cb = vi.fn();
    clock.advance(2); // 2 ms since the manager started
    timers.fastTimeout(cb, 126); // raw deadline 128
    expect(clock.delays).toEqual([128]); // fires at 130 on the manager's timeline
    clock.advance(127);
    expect(cb).not.toHaveBeenCalled();
    clock.advance(1);
    expect(cb).toHaveBeenCalledTimes(1);
    expect(timers.now()).toBe(130);
  });

  it('keeps a deadline already on a bucket boundary (30 → 30)', () => {
    const { clock, timers } = setup();
    const cb = vi.fn();
    timers.fastTimeout(cb, 30);
    expect(clock.delays).toEqual([30]);
    clock.advance(30);
    expect(cb).toHaveBeenCalledOnce();
  });

  it('shares one provider timer among every timer of a bucket and fires them in arming order', () => {
    const { clock, timers } = setup();
    const order: number[] = [];
    clock.advance(1);
    for (let i = 0; i < 1_000; i++) timers.fastTimeout((n: number) => order.push(n), 120 + (i % 9), i);
    expect(clock.delays).toEqual([129]); // deadlines 121..129 all round to 130
    expect(timers.pending).toBe(1_000);
    clock.advance(129);
    expect(order).toEqual(Array.from({ length: 1_000 }, (_, i) => i));
    expect(timers.pending).toBe(0);
    expect(clock.active).toBe(0);
  });

  it('opens one provider timer per distinct bucket', () => {
    const { clock, timers } = setup();
    for (const ms of [5, 10, 11, 19, 20, 21]) timers.fastTimeout(() => {}, ms);
    expect(clock.delays).toEqual([10, 20, 30]);
  });

  it('creates nothing until the first timer is armed', () => {
    const { clock } = setup();
    expect(clock.delays).toEqual([]);
    expect(clock.active).toBe(0);
  });

  it('passes the argument to the callback', () => {
    const { clock, timers } = setup();
    const cb = vi.fn();
    const session = { id: 7 };
    timers.fastTimeout(cb, 10, session);
    clock.advance(10);
    expect(cb).toHaveBeenCalledWith(session);
  });

  it('rejects invalid durations and resolutions', () => {
    const { timers } = setup();
    for (const ms of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => timers.fastTimeout(() => {}, ms)).toThrow(RangeError);
    }
    expect(() => new TimerManager({ resolution: 0 })).toThrow(RangeError);
    expect(() => new TimerManager({ resolution: 2.5 })).toThrow(RangeError);
  });

  it('honours a custom resolution', () => {
    const clock = new ManualClock();
    const timers = new TimerManager({ provider: clock, resolution: 500 });
    timers.fastTimeout(() => {}, 1);
    timers.fastTimeout(() => {}, 499);
    expect(timers.resolution).toBe(500);
    expect(clock.delays).toEqual([500]);
  });
});

describe('cancellation', () => {
  it('clear() stops the callback and is idempotent', () => {
    const { clock, timers } = setup();
    const cb = vi.fn();
    const other = vi.fn();
    const t = timers.fastTimeout(cb, 50);
    timers.fastTimeout(other, 50);
    t.clear();
    t.clear();
    expect(t.pending).toBe(false);
    expect(timers.pending).toBe(1);
    clock.advance(50);
    expect(cb).not.toHaveBeenCalled();
    expect(other).toHaveBeenCalledOnce();
  });

  it('clearing every timer of a bucket leaves a provider timer that fires harmlessly', () => {
    const { clock, timers } = setup();
    const t = timers.fastTimeout(() => expect.fail('cleared timer fired'), 50);
    t.clear();
    expect(clock.active).toBe(1); // kept: a cancel never pays for clearTimeout
    clock.advance(50);
    expect(clock.active).toBe(0);
  });

  it('a callback may clear a later timer of the same bucket', () => {
    const { clock, timers } = setup();
    const second = vi.fn();
    let t2: { clear(): void } | undefined;
    timers.fastTimeout(() => t2?.clear(), 10);
    t2 = timers.fastTimeout(second, 10);
    const third = vi.fn();
    timers.fastTimeout(third, 10);
    clock.advance(10);
    expect(second).not.toHaveBeenCalled();
    expect(third).toHaveBeenCalledOnce();
  });

  it('clear() after firing does nothing; Symbol.dispose clears', () => {
    const { clock, timers } = setup();
    const cb = vi.fn();
    const fired = timers.fastTimeout(cb, 10);
    clock.advance(10);
    fired.clear();
    expect(cb).toHaveBeenCalledOnce();
    const disposed = timers.fastTimeout(cb, 10);
    disposed[Symbol.dispose]();
    clock.advance(10);
    expect(cb).toHaveBeenCalledOnce();
  });

  it('clearAll() from a callback also cancels the rest of the firing bucket', () => {
    const { clock, timers } = setup();
    const rest = vi.fn();
    timers.fastTimeout(() => timers.clearAll(), 10);
    timers.fastTimeout(rest, 10);
    timers.fastTimeout(rest, 20);
    clock.advance(20);
    expect(rest).not.toHaveBeenCalled();
    expect(timers.pending).toBe(0);
  });

  it('clearAll() cancels every timer and provider timer', () => {
    const { clock, timers } = setup();
    const cb = vi.fn();
    const ts = [timers.fastTimeout(cb, 10), timers.fastTimeout(cb, 10), timers.fastTimeout(cb, 90)];
    timers.clearAll();
    expect(timers.pending).toBe(0);
    expect(ts.every((t) => !t.pending)).toBe(true);
    expect(clock.cleared).toHaveLength(2);
    expect(clock.active).toBe(0);
    clock.advance(100);
    expect(cb).not.toHaveBeenCalled();
    timers.fastTimeout(cb, 10); // usable afterwards
    clock.advance(10);
    expect(cb).toHaveBeenCalledOnce();
  });
});

describe('refresh()', () => {
  it('restarts the countdown from now', () => {
    const { clock, timers } = setup();
    const cb = vi.fn();
    const t = timers.fastTimeout(cb, 100);
    clock.advance(50);
    expect(t.refresh()).toBe(t);
    clock.advance(50); // the original deadline
    expect(cb).not.toHaveBeenCalled();
    expect(t.pending).toBe(true);
    clock.advance(49);
    expect(cb).not.toHaveBeenCalled();
    clock.advance(1); // 150
    expect(cb).toHaveBeenCalledOnce();
  });

  it('costs no provider timer per refresh: the timer moves once, when its old bucket fires', () => {
    const { clock, timers } = setup();
    const cb = vi.fn();
    const t = timers.fastTimeout(cb, 100);
    for (let ms = 1; ms <= 90; ms++) {
      clock.advance(1);
      t.refresh(); // a chunk every millisecond
    }
    expect(clock.delays).toEqual([100]);
    clock.advance(10); // old bucket fires at 100 and re-files the timer at 190
    expect(cb).not.toHaveBeenCalled();
    expect(clock.delays).toEqual([100, 90]);
    clock.advance(90);
    expect(cb).toHaveBeenCalledOnce();
  });

  it('moves a refreshed timer without disturbing the rest of its bucket', () => {
    const { clock, timers } = setup();
    const a = vi.fn();
    const b = vi.fn();
    timers.fastTimeout(a, 20);
    const tb = timers.fastTimeout(b, 20);
    clock.advance(15);
    tb.refresh(); // now due at 35 → bucket 40
    clock.advance(5);
    expect(a).toHaveBeenCalledOnce();
    expect(b).not.toHaveBeenCalled();
    clock.advance(20);
    expect(b).toHaveBeenCalledOnce();
  });

  it('is a no-op once the timer fired or was cleared', () => {
    const { clock, timers } = setup();
    const cb = vi.fn();
    const fired = timers.fastTimeout(cb, 10);
    clock.advance(10);
    fired.refresh();
    const cleared = timers.fastTimeout(cb, 10);
    cleared.clear();
    cleared.refresh();
    clock.advance(100);
    expect(cb).toHaveBeenCalledOnce();
    expect(timers.pending).toBe(0);
  });
});

describe('firing', () => {
  it('a throwing callback does not stop the rest of its bucket; the error is rethrown after', () => {
    const { clock, timers } = setup();
    const calls: string[] = [];
    const boom = new Error('boom');
    timers.fastTimeout(() => calls.push('a'), 10);
    timers.fastTimeout(() => {
      calls.push('b');
      throw boom;
    }, 10);
    timers.fastTimeout(() => calls.push('c'), 10);
    const later = vi.fn();
    timers.fastTimeout(later, 20);
    expect(() => clock.advance(10)).toThrow(boom);
    expect(calls).toEqual(['a', 'b', 'c']);
    expect(timers.pending).toBe(1);
    clock.advance(10);
    expect(later).toHaveBeenCalledOnce();
  });

  it('several throwing callbacks surface as one AggregateError', () => {
    const { clock, timers } = setup();
    const e1 = new Error('one');
    const e2 = new Error('two');
    timers.fastTimeout(() => {
      throw e1;
    }, 10);
    timers.fastTimeout(() => {
      throw e2;
    }, 10);
    let caught: unknown;
    try {
      clock.advance(10);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(AggregateError);
    expect((caught as AggregateError).errors).toEqual([e1, e2]);
  });

  it('a 0 ms timer armed by a callback runs in a later pass, not the current one', () => {
    const { clock, timers } = setup();
    const inner = vi.fn();
    timers.fastTimeout(() => {
      timers.fastTimeout(inner, 0);
      expect(inner).not.toHaveBeenCalled();
    }, 10);
    clock.advance(10);
    expect(clock.delays).toEqual([10, 1]);
    expect(inner).not.toHaveBeenCalled();
    clock.advance(1);
    expect(inner).toHaveBeenCalledOnce();
  });

  it('reaches deadlines beyond the 2^31-1 ms setTimeout limit in hops', () => {
    const { clock, timers } = setup();
    const cb = vi.fn();
    const max = 2 ** 31 - 1;
    timers.fastTimeout(cb, max + 10_000);
    expect(clock.delays).toEqual([max]);
    clock.advance(max);
    expect(cb).not.toHaveBeenCalled();
    // The deadline max + 10_000 rounds up to max + 10_003 (a multiple of 10): one more hop of 10_003.
    expect(clock.delays).toEqual([max, 10_003]);
    clock.advance(10_003);
    expect(cb).toHaveBeenCalledOnce();
  });
});

describe('clock', () => {
  it('reads the provider clock once per event-loop turn when the provider has setImmediate', () => {
    const clock = new ManualClock(0, true);
    const timers = new TimerManager({ provider: clock });
    const base = clock.nowCalls; // the constructor's reading
    for (let i = 0; i < 100; i++) timers.fastTimeout(() => {}, 1_000).clear();
    expect(clock.nowCalls - base).toBe(2); // one for the turn, one for the bucket's delay
    clock.time = 7; // time passes within the turn: arms still count from the turn's start
    expect(timers.now()).toBe(0);
    clock.endTurn();
    expect(timers.now()).toBe(7);
  });

  it('reads the clock on every call without setImmediate', () => {
    const { clock, timers } = setup();
    const base = clock.nowCalls;
    timers.now();
    timers.now();
    expect(clock.nowCalls - base).toBe(2);
  });
});

describe('with the default provider', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('unrefs its timers so they never keep the process alive', () => {
    const spy = vi.spyOn(globalThis, 'setTimeout');
    const timers = new TimerManager();
    const t = timers.fastTimeout(() => {}, 60_000);
    // The provider looks the global up at call time, so the spy installed after import is seen.
    expect(spy).toHaveBeenCalledOnce();
    const handle = spy.mock.results[0]!.value as NodeJS.Timeout;
    expect(handle.hasRef()).toBe(false);
    t.clear();
    timers.clearAll();
  });

  it('runs on vitest fake timers, refresh included', () => {
    vi.useFakeTimers();
    const timers = new TimerManager();
    const onIdle = vi.fn();
    const t = timers.fastTimeout(onIdle, 1_000);
    vi.advanceTimersByTime(600);
    t.refresh();
    vi.advanceTimersByTime(600);
    expect(onIdle).not.toHaveBeenCalled();
    vi.advanceTimersByTime(400);
    expect(onIdle).toHaveBeenCalledOnce();
    const handle = vi.spyOn(globalThis, 'setTimeout');
    timers.fastTimeout(() => {}, 10);
    expect((handle.mock.results[0]!.value as NodeJS.Timeout).hasRef()).toBe(false);
    timers.clearAll();
  });
});
