/**
 * The engine behind every timer in this package (internal; {@link TimerManager} is the public
 * face). Timers are nodes of intrusive doubly linked lists, one list per bucket, and a bucket is
 * every timer whose deadline rounds up to the same multiple of the resolution. Each bucket owns
 * one provider timer, made when the bucket is first used and unref'd.
 *
 * Costs: arming allocates the timer node and nothing else unless it opens a new bucket (once per
 * resolution window per distinct duration). Cancelling unlinks four pointers. Refreshing a
 * pending timer only stores its new deadline: the node stays in its old bucket, and when that
 * bucket fires it is moved to the bucket of its new deadline instead of being called. A read
 * timeout refreshed on every chunk therefore costs one store per chunk and one move per bucket
 * period, not one timer re-arm per chunk.
 */
import { type TimerHandle, type TimerProvider, unrefHandle } from './provider.js';
import { roundTo } from './round.js';

// Node turns larger delays into 1 ms (with a warning), so far buckets are reached in hops.
const MAX_DELAY = 2 ** 31 - 1;

/** A pending or finished timer made by `fastTimeout`. */
export interface FastTimer {
  /** The duration given when it was armed, in milliseconds. */
  readonly ms: number;
  /** True until it fires or is cleared. */
  readonly pending: boolean;
  /** Cancel it: O(1), allocation-free, and a no-op once it fired or was cleared. */
  clear(): void;
  /**
   * Restart the countdown from now with the same duration: a single store, whatever the number
   * of timers. A no-op once the timer fired or was cleared (unlike Node's `Timeout#refresh`,
   * which re-arms a fired timer): a chunk that arrives after a read timeout fired must not
   * start a new one. Returns the timer.
   */
  refresh(): this;
  /** Same as {@link FastTimer.clear}, for `using t = fastTimeout(…)`. */
  [Symbol.dispose](): void;
}

type Callback = (arg: never) => void;

class Bucket {
  head: TimerNode | null = null;
  tail: TimerNode | null = null;
  handle: TimerHandle = undefined;
  // Set when the delay was capped at MAX_DELAY, so the bucket must check the clock when it fires.
  far = false;
  readonly fire: () => void;
  constructor(
    readonly key: number,
    readonly engine: Buckets,
  ) {
    this.fire = () => engine.fire(this);
  }
}

/** A timer: its own list node, so linking and unlinking allocate nothing. */
export class TimerNode implements FastTimer {
  bucket: Bucket | null = null;
  prev: TimerNode | null = null;
  next: TimerNode | null = null;
  constructor(
    public cb: Callback | null,
    public arg: unknown,
    readonly ms: number,
    /** Deadline of the latest arm or refresh, in whole ms on the engine's timeline (not rounded). */
    public expires: number,
  ) {}

  get pending(): boolean {
    return this.bucket !== null;
  }

  clear(): void {
    const b = this.bucket;
    if (b === null) return;
    b.engine.unlink(this);
    // Drop what the callback would have touched (often a whole request) now, not at the deadline.
    this.cb = null;
    this.arg = undefined;
  }

  refresh(): this {
    const b = this.bucket;
    if (b !== null) this.expires = b.engine.now() + this.ms;
    return this;
  }

  [Symbol.dispose](): void {
    this.clear();
  }
}

/** Throw a RangeError unless `ms` is a finite number ≥ 0. */
export function checkMs(ms: number): void {
  if (!(ms >= 0 && ms < Number.POSITIVE_INFINITY)) {
    throw new RangeError(`timeout: ms must be a finite number >= 0, got ${ms}`);
  }
}

/** Buckets keyed by rounded deadline, each with one provider timer. */
export class Buckets {
  readonly map = new Map<number, Bucket>();
  // Consecutive arms nearly always hit the same bucket; remembering it skips the Map lookup.
  last: Bucket | null = null;
  private lastExpires = 0;
  pending = 0;
  // The bucket being fired: out of the map, but its remaining timers are still pending.
  private firing: Bucket | null = null;
  readonly origin: number;
  private turnNow = 0;
  private turnValid = false;
  private readonly endTurn = () => {
    this.turnValid = false;
  };

  constructor(
    readonly provider: TimerProvider,
    readonly resolution: number,
  ) {
    this.origin = provider.now();
  }

  /**
   * Whole milliseconds since the engine started. With a provider `setImmediate`, the clock is
   * read once per event-loop turn and reused until the turn's I/O callbacks are done, which
   * is what makes arming cheaper than a clock read.
   */
  now(): number {
    if (this.turnValid) return this.turnNow;
    const t = Math.floor(this.provider.now() - this.origin);
    if (this.provider.setImmediate !== undefined) {
      this.turnNow = t;
      this.turnValid = true;
      this.provider.setImmediate(this.endTurn);
    }
    return t;
  }

  arm(cb: Callback, ms: number, arg: unknown, start: number = this.now()): TimerNode {
    checkMs(ms);
    const node = new TimerNode(cb, arg, ms, start + ms);
    this.link(node);
    return node;
  }

  /** Append `node` to the bucket of its deadline, opening the bucket if needed. */
  link(node: TimerNode): void {
    const expires = node.expires;
    let b = this.last;
    // Arms in one turn with one duration share `expires`: skip the rounding and the Map lookup.
    if (b === null || expires !== this.lastExpires) {
      const key = roundTo(expires, this.resolution);
      if (b === null || b.key !== key) {
        b = this.map.get(key) ?? this.open(key);
        this.last = b;
      }
      this.lastExpires = expires;
    }
    node.bucket = b;
    node.prev = b.tail;
    if (b.tail === null) b.head = node;
    else b.tail.next = node;
    b.tail = node;
    this.pending++;
  }

  unlink(node: TimerNode): void {
    const b = node.bucket!;
    const { prev, next } = node;
    if (prev === null) b.head = next;
    else prev.next = next;
    if (next === null) b.tail = prev;
    else next.prev = prev;
    node.bucket = node.prev = node.next = null;
    this.pending--;
  }

  private open(key: number): Bucket {
    const b = new Bucket(key, this);
    this.map.set(key, b);
    this.schedule(b);
    return b;
  }

  private schedule(b: Bucket): void {
    // The delay comes from a fresh reading, so buckets fire on the true timeline even when the
    // key was computed from the turn's cached time.
    let delay = Math.ceil(b.key - (this.provider.now() - this.origin));
    b.far = delay > MAX_DELAY;
    if (b.far) delay = MAX_DELAY;
    else if (delay < 1) delay = 1;
    b.handle = this.provider.setTimeout(b.fire, delay);
    unrefHandle(b.handle);
  }

  /**
   * Call every timer of `b`, in arming order. Timers refreshed past `b.key` move to their new
   * bucket instead. A callback that throws does not stop the others: once the bucket is drained
   * the error is rethrown (an `AggregateError` if several threw), so it surfaces as an uncaught
   * exception exactly as from a throwing `setTimeout` callback.
   */
  fire(b: Bucket): void {
    // A capped delay, or libuv's whole-ms clock firing a hair early: only the former needs a new hop.
    if (b.far && b.key - (this.provider.now() - this.origin) > 1) {
      this.schedule(b);
      return;
    }
    // Out of the map first: a callback arming a 0 ms timer gets a new bucket, not this pass.
    this.map.delete(b.key);
    if (this.last === b) this.last = null;
    b.handle = undefined;
    this.firing = b;
    let errors: unknown[] | undefined;
    for (let node = b.head; node !== null; node = b.head) {
      // Detach the head before calling: callbacks may clear any timer still in this bucket.
      b.head = node.next;
      if (b.head === null) b.tail = null;
      else b.head.prev = null;
      node.next = null;
      node.bucket = null;
      this.pending--;
      if (node.expires > b.key) {
        this.link(node);
        continue;
      }
      const cb = node.cb as (arg: unknown) => void;
      const arg = node.arg;
      node.cb = null;
      node.arg = undefined;
      try {
        cb(arg);
      } catch (e) {
        if (errors === undefined) errors = [e];
        else errors.push(e);
      }
    }
    this.firing = null;
    if (errors !== undefined) {
      throw errors.length === 1 ? errors[0] : new AggregateError(errors, 'fast timer callbacks threw');
    }
  }

  /** Cancel every pending timer and every provider timer. */
  clearAll(): void {
    for (const b of this.map.values()) {
      this.provider.clearTimeout(b.handle);
      Buckets.clearList(b);
    }
    if (this.firing !== null) Buckets.clearList(this.firing);
    this.map.clear();
    this.last = null;
  }

  private static clearList(b: Bucket): void {
    for (let node = b.head; node !== null; node = b.head) node.clear();
  }
}
