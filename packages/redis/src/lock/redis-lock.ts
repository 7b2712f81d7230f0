/**
 * `RedisCacheLock`: the cache lock across instances. In each process the requests for a key queue
 * on a local `CacheLock` (no Redis traffic for them); the first one's place in line is decided in
 * Redis (SET NX PX with a token), so one request fetches for every instance at once.
 *
 * The cache's lock interface answers synchronously, and Redis cannot. So the first request of a
 * process is handed a read lock like the others, and the answer comes through the cache's own
 * election: once Redis says this instance writes, the local placeholder ends with
 * `TransientError`, which makes the longest-waiting request the writer (it looks up once more,
 * then fetches). When another instance writes, the placeholder ends the way that writer ended.
 */
import { randomBytes } from 'node:crypto';
import {
  CacheLock,
  type CacheKeyLock,
  type CacheLockOptions,
  type Locked,
  type UnlockReason,
  type WritePermit,
} from '@pingora-ts/cache';
import type { RedisClient } from '../client.js';
import { RedisLink, type RedisLinkOptions } from '../link.js';
import { ReleaseEvents } from './events.js';
import { ACQUIRE, POLL, RELEASE } from './scripts.js';

/** Options of {@link RedisCacheLock}. */
export interface RedisCacheLockOptions extends CacheLockOptions, RedisLinkOptions {
  /** Prefix of the lock keys and of the release channel (default `pingora:lock:`). */
  readonly prefix?: string;
  /**
   * The connection that receives release messages: by default a `duplicate()` of the client,
   * opened on the first wait; `false` to poll only.
   */
  readonly subscriber?: RedisClient | false;
  /** Longest pause between two polls of another instance's lock, in ms (default 250). */
  readonly maxPollMs?: number;
}

type RemoteOutcome = 'Done' | 'GiveUp' | 'Again' | 'Failed' | 'Ended';
type Script = (...args: (string | number | Buffer)[]) => Promise<unknown>;

/**
 * A {@link CacheKeyLock} shared by every instance on one Redis: one writer per key across all of
 * them; a writer that dies holds the key for at most `ageTimeoutMs`. Waiters on other instances
 * are woken by pub/sub and fall back on polling with backoff. While Redis is unreachable each
 * request gets its own permit (no lock): nothing waits on a lock nobody can see.
 *
 * @example
 * ```ts
 * const lock = new RedisCacheLock(link, { ageTimeoutMs: 10_000, waitTimeoutMs: 5_000 });
 * session.cache.enable(new RedisStorage(link), undefined, undefined, lock);
 * // at shutdown
 * lock.close();
 * ```
 */
export class RedisCacheLock implements CacheKeyLock {
  /** The link this lock calls Redis through. */
  readonly link: RedisLink;
  readonly ageTimeoutMs: number;
  readonly waitTimeoutMs: number | undefined;
  private readonly local: CacheLock;
  private readonly prefix: string;
  private readonly maxPollMs: number;
  private readonly events: ReleaseEvents;
  private readonly acquireScript: Script;
  private readonly pollScript: Script;
  private readonly releaseScript: Script;
  private closed = false;

  constructor(client: RedisClient | RedisLink, options: RedisCacheLockOptions) {
    this.local = new CacheLock(options);
    this.ageTimeoutMs = this.local.ageTimeoutMs;
    this.waitTimeoutMs = this.local.waitTimeoutMs;
    this.link = RedisLink.of(client, options);
    this.prefix = options.prefix ?? 'pingora:lock:';
    this.maxPollMs = options.maxPollMs ?? 250;
    if (!Number.isFinite(this.maxPollMs) || this.maxPollMs < 1) {
      throw new RangeError(`RedisCacheLock: maxPollMs must be >= 1, got ${options.maxPollMs}`);
    }
    const sub = options.subscriber;
    const open =
      sub === false ? undefined : sub !== undefined ? () => sub : () => this.link.client.duplicate();
    this.events = new ReleaseEvents(`${this.prefix}released`, open, sub === undefined);
    this.acquireScript = this.link.script('pingoraTsLockAcquire', ACQUIRE);
    this.pollScript = this.link.script('pingoraTsLockPoll', POLL);
    this.releaseScript = this.link.script('pingoraTsLockRelease', RELEASE);
  }

  /** Keys being fetched or elected from this process. */
  get size(): number {
    return this.local.size;
  }

  lock(hashKey: string, staleWriter = false): Locked {
    if (this.closed) return this.local.lock(hashKey, staleWriter);
    // Redis down: no lock. Waiters could only be handed a miss one after another.
    if (!this.link.willTry())
      return new CacheLock({ ageTimeoutMs: this.ageTimeoutMs }).lock(hashKey, staleWriter);
    const locked = this.local.lock(hashKey, staleWriter);
    // A stale asset is served while it is refreshed: each instance refreshes its own, at most once.
    if (locked.kind === 'read' || staleWriter) return locked;
    const reader = this.local.lock(hashKey, staleWriter);
    this.events.start();
    void this.elect(hashKey, locked.permit);
    return reader;
  }

  release(permit: WritePermit, reason: UnlockReason): void {
    permit.unlock(reason);
  }

  /**
   * Closes the subscriber connection this lock opened (one passed in as `subscriber` stays open,
   * as does the client); later locks are local to this process.
   */
  close(): void {
    this.closed = true;
    this.events.close();
  }

  // Competes in Redis for the key on behalf of the requests queued behind `placeholder`.
  private async elect(hashKey: string, placeholder: WritePermit): Promise<void> {
    const lockKey = `${this.prefix}{${hashKey}}`;
    const token = randomBytes(12).toString('base64url');
    for (;;) {
      let holder: string;
      try {
        holder = String(await this.acquireScript(lockKey, token, Math.ceil(this.ageTimeoutMs)));
      } catch {
        placeholder.unlock('GiveUp');
        return;
      }
      if (placeholder.status !== 'Waiting') {
        if (holder === token) this.publish(lockKey, hashKey, token, 'Dangling');
        return;
      }
      if (holder === token) {
        // Ours: the longest-waiting local request becomes the writer.
        placeholder.unlock('TransientError');
        await this.watch(lockKey, hashKey, token);
        return;
      }
      const outcome = await this.waitRemote(lockKey, hashKey, holder, placeholder);
      if (outcome === 'Ended') return;
      if (outcome === 'Failed') {
        placeholder.unlock('GiveUp');
        return;
      }
      if (outcome !== 'Again') {
        placeholder.unlock(outcome);
        return;
      }
    }
  }

  // Follows the local round for a key this instance holds in Redis, then releases it as it ended.
  private async watch(lockKey: string, hashKey: string, token: string): Promise<void> {
    for (;;) {
      const seen = this.local.lock(hashKey);
      if (seen.kind === 'write') {
        // Nobody here is fetching any more (every waiter left): let another instance try.
        seen.permit.unlock('Dangling');
        this.publish(lockKey, hashKey, token, 'TransientError');
        return;
      }
      const result = await seen.lock.wait();
      switch (result.status) {
        case 'Done':
        case 'GiveUp':
        case 'Dangling':
          this.publish(lockKey, hashKey, token, result.status);
          return;
        case 'AgeTimeout':
          this.publish(lockKey, hashKey, token, 'Dangling');
          return;
        case 'TransientError':
          // The writer failed and this watcher was first in line: pass the turn on locally.
          result.permit.unlock('TransientError');
          break;
        default:
          break; // WaitTimeout from waitTimeoutMs: look again
      }
    }
  }

  // Waits for another instance's writer; 'Again' when the key is free to compete for.
  private async waitRemote(
    lockKey: string,
    hashKey: string,
    holder: string,
    placeholder: WritePermit,
  ): Promise<RemoteOutcome> {
    let pause = 5;
    for (;;) {
      let state: string;
      try {
        state = String(await this.pollScript(lockKey, holder));
      } catch {
        return 'Failed';
      }
      if (state === 'Done' || state === 'GiveUp') return state;
      if (state !== 'Waiting') return 'Again';
      if (placeholder.status !== 'Waiting' || this.closed) return 'Ended';
      await this.events.next(hashKey, pause);
      pause = Math.min(pause * 2, this.maxPollMs);
    }
  }

  private publish(lockKey: string, hashKey: string, token: string, outcome: string): void {
    // Best effort: if Redis is gone the lock expires by itself after ageTimeoutMs.
    this.releaseScript(
      lockKey,
      token,
      outcome,
      Math.ceil(this.ageTimeoutMs),
      this.events.channel,
      hashKey,
    ).catch(() => undefined);
  }
}
