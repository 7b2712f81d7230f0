/**
 * One Redis connection as the proxy sees it: every call gets a deadline, an outage is logged once
 * and so is the recovery, and while Redis is unreachable calls fail at once (one probe per retry
 * interval goes through) so no request waits on a dead server.
 */
import type { Logger } from '@pingora-ts/core';
import type { RedisArg, RedisClient, ScriptDefinition } from './client.js';
import { scriptOn } from './client.js';
import { Deadlines } from './deadlines.js';

/** Options of {@link RedisLink}. */
export interface RedisLinkOptions {
  /** Where the outage and the recovery are logged (once each). Default: nothing is logged. */
  readonly logger?: Pick<Logger, 'warn' | 'info'>;
  /** Deadline of one Redis call, in ms (default 500). */
  readonly timeoutMs?: number;
  /** While Redis is down, one call per this many ms probes it; the others fail at once (default 1000). */
  readonly retryIntervalMs?: number;
  /** Monotonic clock in ms (default `performance.now()`); inject one in tests. */
  readonly now?: () => number;
}

/**
 * A call that did not reach Redis: it is down, the call passed its deadline, or the link is
 * failing fast until the next probe. The components fall back on it; an error reply from Redis
 * is not one of these.
 */
export class RedisUnavailableError extends Error {
  override readonly name = 'RedisUnavailableError';
  readonly code = 'ERR_REDIS_UNAVAILABLE';
}

/** Whether `error` means Redis could not be reached, as opposed to Redis answering with an error. */
export function isUnavailable(error: unknown): boolean {
  return error instanceof RedisUnavailableError;
}

/**
 * A Redis client with deadlines and outage tracking, shared by the storage, the lock and the rate
 * limiter built on it so that an outage is logged once for all of them.
 *
 * @example
 * ```ts
 * const link = new RedisLink(new Redis({ enableOfflineQueue: false, maxRetriesPerRequest: 0 }), {
 *   logger, timeoutMs: 250,
 * });
 * const storage = new RedisStorage(link);
 * const lock = new RedisCacheLock(link, { ageTimeoutMs: 10_000 });
 * const rate = new RedisRate(link, { intervalMs: 1000 });
 * ```
 */
export class RedisLink {
  readonly client: RedisClient;
  readonly timeoutMs: number;
  readonly retryIntervalMs: number;
  private readonly logger: Pick<Logger, 'warn' | 'info'> | undefined;
  private readonly now: () => number;
  private downSince: number | undefined;
  private readonly deadlines: Deadlines;
  private nextProbe = 0;

  constructor(client: RedisClient, options: RedisLinkOptions = {}) {
    if (client === null || typeof client !== 'object' || typeof client.defineCommand !== 'function') {
      throw new TypeError('RedisLink: client must be an ioredis client (it has no defineCommand)');
    }
    this.client = client;
    this.timeoutMs = positive('timeoutMs', options.timeoutMs ?? 500);
    this.retryIntervalMs = positive('retryIntervalMs', options.retryIntervalMs ?? 1000);
    this.logger = options.logger;
    this.now = options.now ?? (() => performance.now());
    this.deadlines = new Deadlines(this.timeoutMs);
  }

  /** The link for `source`: itself when it already is one, else a new link over the client. */
  static of(source: RedisClient | RedisLink, options?: RedisLinkOptions): RedisLink {
    return source instanceof RedisLink ? source : new RedisLink(source, options);
  }

  /** False from a failed call until a call succeeds again. */
  get available(): boolean {
    return this.downSince === undefined;
  }

  /** Whether a call now would be tried (Redis up, or a probe is due) rather than fail at once. */
  willTry(): boolean {
    return this.downSince === undefined || this.now() >= this.nextProbe;
  }

  /** A caller for a Lua script on this link's client. */
  script(
    name: string,
    definition: ScriptDefinition,
    buffer = false,
  ): (...args: RedisArg[]) => Promise<unknown> {
    const fn = scriptOn(this.client, name, definition, buffer);
    return (...args) => this.run(name, () => fn(...args));
  }

  /**
   * Runs one Redis call under the deadline. Rejects with {@link RedisUnavailableError} when Redis
   * is down (without calling it, unless a probe is due), the call timed out or the connection
   * failed; an error reply from Redis is passed on as it is and does not count as an outage.
   */
  async run<T>(what: string, call: () => Promise<T>): Promise<T> {
    if (this.downSince !== undefined) {
      const now = this.now();
      if (now < this.nextProbe) throw unavailable(what, 'Redis is down');
      this.nextProbe = now + this.retryIntervalMs;
    }
    try {
      const result = await this.deadlines.bound(call());
      this.up();
      return result;
    } catch (e) {
      if (isReplyError(e)) {
        this.up();
        throw e;
      }
      this.down(what, e);
      throw unavailable(what, e);
    }
  }

  private up(): void {
    if (this.downSince === undefined) return;
    const ms = Math.round(this.now() - this.downSince);
    this.downSince = undefined;
    this.logger?.info({ downMs: ms }, `redis: reachable again after ${ms} ms`);
  }

  private down(what: string, cause: unknown): void {
    if (this.downSince !== undefined) return;
    this.downSince = this.now();
    this.nextProbe = this.downSince + this.retryIntervalMs;
    const reason = cause instanceof Error ? cause.message : String(cause);
    this.logger?.warn(
      { err: reason, call: what },
      `redis: unreachable (${reason}); cache bypassed, locks and rate limits local until it is back`,
    );
  }
}

function unavailable(what: string, cause: unknown): RedisUnavailableError {
  const why = cause instanceof Error ? cause.message : String(cause);
  return new RedisUnavailableError(`redis: ${what} failed: ${why}`, { cause });
}

// ioredis's ReplyError: Redis answered (WRONGTYPE, a script error); the connection is fine.
function isReplyError(e: unknown): boolean {
  return e instanceof Error && e.name === 'ReplyError';
}

function positive(name: string, v: number): number {
  if (!Number.isFinite(v) || v <= 0)
    throw new RangeError(`RedisLink: ${name} must be a positive number, got ${v}`);
  return v;
}
