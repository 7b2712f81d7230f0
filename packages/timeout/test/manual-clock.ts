/**
 * A hand-driven {@link TimerProvider} for tests: time moves only through {@link ManualClock.advance},
 * which runs due timers in deadline order (ties in creation order), like a real event loop would.
 */
import type { TimerHandle, TimerProvider } from '../src/index.js';

interface Pending {
  at: number;
  seq: number;
  cb: () => void;
}

export class ManualClock implements TimerProvider {
  time: number;
  /** Delays passed to `setTimeout`, in call order. */
  readonly delays: number[] = [];
  readonly cleared: TimerHandle[] = [];
  nowCalls = 0;
  readonly setImmediate?: (callback: () => void) => unknown;
  private readonly timers = new Map<number, Pending>();
  private readonly immediates: Array<() => void> = [];
  private seq = 0;

  /** With `turns`, the clock also offers `setImmediate`, run by {@link ManualClock.endTurn}. */
  constructor(start = 0, turns = false) {
    this.time = start;
    if (turns) this.setImmediate = (cb) => this.immediates.push(cb);
  }

  readonly now = (): number => {
    this.nowCalls++;
    return this.time;
  };

  readonly setTimeout = (cb: () => void, ms: number): TimerHandle => {
    const seq = ++this.seq;
    this.delays.push(ms);
    this.timers.set(seq, { at: this.time + ms, seq, cb });
    return seq;
  };

  readonly clearTimeout = (handle: TimerHandle): void => {
    this.cleared.push(handle);
    this.timers.delete(handle as number);
  };

  /** Provider timers not yet fired or cleared. */
  get active(): number {
    return this.timers.size;
  }

  /** Run the immediates queued so far: the end of the current event-loop turn. */
  endTurn(): void {
    for (const cb of this.immediates.splice(0)) cb();
  }

  /** Move time forward by `ms`, running each due timer at its own time. A throwing timer stops the advance. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      let next: Pending | undefined;
      for (const t of this.timers.values()) {
        if (t.at <= end && (next === undefined || t.at < next.at || (t.at === next.at && t.seq < next.seq))) {
          next = t;
        }
      }
      if (next === undefined) break;
      this.timers.delete(next.seq);
      this.time = next.at;
      next.cb();
    }
    this.time = end;
  }
}
