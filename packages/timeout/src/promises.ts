/**
 * Promise and `AbortSignal` front ends over the bucket engine. Their callbacks are module-level
 * functions that receive what they need as the timer's argument, so arming one allocates the
 * timer node and no closure.
 */
import { type Buckets, checkMs, type TimerNode } from './buckets.js';
import { Elapsed } from './elapsed.js';

/** What {@link timeout} accepts: a promise (or any thenable), or a function to call now. */
export type TimeoutInput<T> = PromiseLike<T> | (() => T);

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as PromiseLike<unknown>).then === 'function'
  );
}

function rejectElapsed(reject: (reason: unknown) => void): void {
  reject(new Elapsed());
}

function callResolve(resolve: () => void): void {
  resolve();
}

function abortElapsed(controller: AbortController): void {
  controller.abort(new Elapsed());
}

/** One `timeout()` call: the pending work, the rejecter, and the timer once armed. */
class Race {
  settled = false;
  timer: TimerNode | null = null;
  constructor(
    readonly engine: Buckets,
    readonly ms: number,
    readonly start: number,
    readonly reject: (reason: unknown) => void,
  ) {}
}

function armIfPending(race: Race): void {
  if (race.settled) return;
  race.timer = race.engine.arm(rejectElapsed, race.ms, race.reject, race.start);
}

export function timeoutOn<T>(engine: Buckets, input: TimeoutInput<T>, ms: number): Promise<Awaited<T>> {
  checkMs(ms);
  let value: unknown;
  if (typeof input === 'function') {
    try {
      value = input();
    } catch (e) {
      return Promise.reject(e);
    }
  } else {
    value = input;
  }
  if (!isThenable(value)) return Promise.resolve(value as Awaited<T>);
  const work = value as PromiseLike<Awaited<T>>;
  // The deadline counts from this call even though the timer is armed a microtask later.
  const start = engine.now();
  return new Promise<Awaited<T>>((resolve, reject) => {
    const race = new Race(engine, ms, start, reject);
    const done = (): void => {
      race.settled = true;
      race.timer?.clear();
    };
    work.then(
      (v) => {
        done();
        resolve(v);
      },
      (e: unknown) => {
        done();
        reject(e);
      },
    );
    // Pingora arms its timer only once the future is found pending. JavaScript cannot look at a
    // promise's state, but an already-settled promise runs the reactions above before this
    // microtask, so by then `settled` tells: settled work never touches a timer.
    queueMicrotask(() => armIfPending(race));
  });
}

export function sleepOn(engine: Buckets, ms: number): Promise<void> {
  checkMs(ms);
  return new Promise<void>((resolve) => {
    engine.arm(callResolve, ms, resolve);
  });
}

export function timeoutSignalOn(engine: Buckets, ms: number): AbortSignal {
  const controller = new AbortController();
  engine.arm(abortElapsed, ms, controller);
  return controller.signal;
}
