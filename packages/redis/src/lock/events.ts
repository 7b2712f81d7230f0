/**
 * Wake-ups for readers waiting on another instance's writer: one subscriber connection per lock
 * receives every release, and a waiter for that key polls at once instead of at its next tick.
 * Messages are only a shortcut: waiters poll anyway, so a lost message or a subscriber that never
 * connected costs latency, never correctness.
 */
import type { RedisClient } from '../client.js';

export class ReleaseEvents {
  private readonly waiters = new Map<string, Set<() => void>>();
  private subscriber: RedisClient | undefined;
  private closed = false;
  private readonly onMessage = (channel: string, message: string): void => {
    if (channel !== this.channel) return;
    const set = this.waiters.get(message);
    if (set === undefined) return;
    this.waiters.delete(message);
    for (const wake of set) wake();
  };

  /**
   * @param open makes the subscriber connection (none: polling only)
   * @param owned whether `close()` disconnects it (a connection the user passed in stays open)
   */
  constructor(
    readonly channel: string,
    private readonly open: (() => RedisClient) | undefined,
    private readonly owned: boolean,
  ) {}

  /** Resolves when a release of `hashKey` is announced or after `ms`, whichever comes first. */
  next(hashKey: string, ms: number): Promise<void> {
    this.start();
    return new Promise((resolve) => {
      let set = this.waiters.get(hashKey);
      if (set === undefined) {
        set = new Set();
        this.waiters.set(hashKey, set);
      }
      const wake = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        const s = this.waiters.get(hashKey);
        s?.delete(wake);
        if (s?.size === 0) this.waiters.delete(hashKey);
        resolve();
      }, ms);
      set.add(wake);
    });
  }

  /** Closes the subscriber connection. */
  close(): void {
    this.closed = true;
    const sub = this.subscriber;
    this.subscriber = undefined;
    if (sub === undefined) return;
    sub.removeListener('message', this.onMessage);
    if (this.owned) sub.disconnect();
  }

  /** Opens the subscriber connection, once, so it is listening by the time a waiter needs it. */
  start(): void {
    if (this.subscriber !== undefined || this.open === undefined || this.closed) return;
    let sub: RedisClient;
    try {
      sub = this.open();
    } catch {
      return;
    }
    this.subscriber = sub;
    sub.on('error', () => undefined);
    sub.on('message', this.onMessage);
    const subscribe = (): void => void sub.subscribe(this.channel).catch(() => undefined);
    // ioredis re-subscribes after a reconnect; the first subscribe waits until it is connected.
    sub.on('ready', subscribe);
    subscribe();
  }
}
