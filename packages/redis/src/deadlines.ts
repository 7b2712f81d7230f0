/**
 * Deadlines for Redis calls without a timer per call: every call has the same timeout, so calls
 * expire in the order they started; one ticker, running only while calls are in flight, fails
 * the overdue ones from the head of a queue. A deadline fires up to a tick (a quarter of the
 * timeout, at most 25 ms) late, which a deadline meant to catch a dead server can afford.
 */

interface Pending {
  readonly at: number;
  reject: ((e: Error) => void) | undefined;
}

export class Deadlines {
  private readonly queue: Pending[] = [];
  private head = 0;
  private ticker: NodeJS.Timeout | undefined;
  private readonly tickMs: number;

  constructor(private readonly timeoutMs: number) {
    this.tickMs = Math.max(1, Math.min(25, Math.floor(timeoutMs / 4)));
  }

  /** `call`'s outcome, or a rejection once it is `timeoutMs` overdue. */
  bound<T>(call: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: Pending = { at: performance.now() + this.timeoutMs, reject };
      this.queue.push(entry);
      this.ticker ??= setInterval(() => this.tick(), this.tickMs).unref();
      call.then(
        (v) => {
          entry.reject = undefined;
          resolve(v);
        },
        (e: unknown) => {
          entry.reject = undefined;
          reject(e);
        },
      );
    });
  }

  private tick(): void {
    const now = performance.now();
    const q = this.queue;
    while (this.head < q.length) {
      const entry = q[this.head]!;
      if (entry.reject !== undefined && entry.at > now) break;
      this.head++;
      const reject = entry.reject;
      entry.reject = undefined;
      reject?.(new Error(`no answer within ${this.timeoutMs} ms`));
    }
    if (this.head > 1024 || this.head === q.length) {
      q.splice(0, this.head);
      this.head = 0;
    }
    if (q.length === 0) {
      clearInterval(this.ticker);
      this.ticker = undefined;
    }
  }
}
