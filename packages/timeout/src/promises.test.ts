import { PingoraError } from '@pingora-ts/error';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { ManualClock } from '../test/manual-clock.js';
import type { FastTimer } from './buckets.js';
import { Elapsed } from './elapsed.js';
import { TimerManager } from './timer-manager.js';

function setup() {
  const clock = new ManualClock();
  return { clock, timers: new TimerManager({ provider: clock }) };
}

/** Let every queued microtask (and the ones they queue) run. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

const never = <T>() => new Promise<T>(() => {});

function settled<T>(p: Promise<T>) {
  const state: { value?: T; error?: unknown; done: boolean } = { done: false };
  p.then(
    (value) => Object.assign(state, { value, done: true }),
    (error: unknown) => Object.assign(state, { error, done: true }),
  );
  return state;
}

describe('timeout()', () => {
  it('rejects with Elapsed when the deadline passes first', async () => {
    const { clock, timers } = setup();
    const s = settled(timers.timeout(never<number>(), 100));
    await flush();
    expect(timers.pending).toBe(1);
    clock.advance(99);
    await flush();
    expect(s.done).toBe(false);
    clock.advance(1);
    await flush();
    expect(s.error).toBeInstanceOf(Elapsed);
    expect(s.error).toBeInstanceOf(PingoraError);
    expect((s.error as Elapsed).message).toBe('Timeout Elapsed');
  });

  it('resolves with the value and cancels its timer when the work wins', async () => {
    const { clock, timers } = setup();
    let finish!: (v: string) => void;
    const work = new Promise<string>((resolve) => {
      finish = resolve;
    });
    const p = timers.timeout(work, 100);
    await flush();
    expect(timers.pending).toBe(1);
    clock.advance(50);
    finish('done');
    await expect(p).resolves.toBe('done');
    expect(timers.pending).toBe(0);
  });

  it('passes the work’s rejection through', async () => {
    const { timers } = setup();
    const boom = new Error('boom');
    await expect(timers.timeout(Promise.reject(boom), 100)).rejects.toBe(boom);
    await expect(
      timers.timeout(() => {
        throw boom;
      }, 100),
    ).rejects.toBe(boom);
  });

  it('is lazy: settled work and plain values arm no timer', async () => {
    const { clock, timers } = setup();
    await expect(timers.timeout(Promise.resolve(1), 100)).resolves.toBe(1);
    await expect(timers.timeout(() => 2, 100)).resolves.toBe(2);
    await expect(timers.timeout(async () => 3, 100)).resolves.toBe(3);
    await expect(timers.timeout(Promise.reject(new Error('x')), 100)).rejects.toThrow('x');
    await flush();
    expect(clock.delays).toEqual([]);
    expect(timers.pending).toBe(0);
  });

  it('arms once the work is found pending, counting from the call', async () => {
    const { clock, timers } = setup();
    const s = settled(timers.timeout(() => never<void>(), 100));
    clock.time = 5; // synchronous work after the call, before the timer is armed
    expect(timers.pending).toBe(0);
    await flush();
    expect(timers.pending).toBe(1);
    expect(clock.delays).toEqual([95]);
    clock.advance(95);
    await flush();
    expect(s.error).toBeInstanceOf(Elapsed);
  });

  it('accepts any thenable', async () => {
    const { timers } = setup();
    const thenable: PromiseLike<number> = {
      // biome-ignore lint/suspicious/noThenProperty: a hand-made thenable is the point of this test
      then: (onFulfilled) => Promise.resolve(onFulfilled?.(42)) as never,
    };
    await expect(timers.timeout(thenable, 100)).resolves.toBe(42);
  });

  it('types its result as the awaited value (checked by tsc)', () => {
    const { timers } = setup();
    expectTypeOf(timers.timeout(Promise.resolve(1), 10)).toEqualTypeOf<Promise<number>>();
    expectTypeOf(timers.timeout(async () => 'x', 10)).toEqualTypeOf<Promise<string>>();
    expectTypeOf(timers.timeout(() => true, 10)).toEqualTypeOf<Promise<boolean>>();
    const t = timers.fastTimeout((s: string) => s.length, 10, 'x');
    expectTypeOf(t).toEqualTypeOf<FastTimer>();
    t.clear();
    // @ts-expect-error the argument must fit the callback's parameter
    timers.fastTimeout((s: string) => s.length, 10, 5).clear();
  });

  it('rejects invalid durations synchronously', () => {
    const { timers } = setup();
    expect(() => timers.timeout(never(), -1)).toThrow(RangeError);
  });
});

describe('sleep()', () => {
  it('resolves at the rounded deadline, not before', async () => {
    const { clock, timers } = setup();
    clock.advance(3);
    const s = settled(timers.sleep(25)); // raw 28 → 30
    clock.advance(26);
    await flush();
    expect(s.done).toBe(false);
    clock.advance(1);
    await flush();
    expect(s.done).toBe(true);
    expect(s.value).toBeUndefined();
  });

  it('shares buckets with other timers', () => {
    const { clock, timers } = setup();
    for (let i = 0; i < 100; i++) void timers.sleep(10);
    timers.fastTimeout(() => {}, 10);
    expect(clock.delays).toEqual([10]);
  });
});

describe('timeoutSignal()', () => {
  it('aborts with an Elapsed reason at the deadline', () => {
    const { clock, timers } = setup();
    const signal = timers.timeoutSignal(50);
    clock.advance(49);
    expect(signal.aborted).toBe(false);
    clock.advance(1);
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBeInstanceOf(Elapsed);
    expect(() => signal.throwIfAborted()).toThrow('Timeout Elapsed');
  });
});
