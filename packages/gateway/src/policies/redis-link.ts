/**
 * The one Redis connection a gateway opens, made on first use from the `redis` section and
 * shared by every Redis rate limit, the Redis cache storage and its lock, so an outage is logged
 * once for all of them and a file without Redis users opens no connection.
 */
import type { Logger } from '@pingora-ts/core';
import { RedisLink } from '@pingora-ts/redis';
import { Redis } from 'ioredis';
import type { RedisSection } from '../schema/index.js';

/** How long {@link SharedRedis.ready} waits for the first connection before serving anyway. */
const READY_WAIT_MS = 5_000;

/** A lazily opened Redis connection and its {@link RedisLink}. */
export class SharedRedis {
  readonly #section: RedisSection | undefined;
  readonly #logger: Logger;
  #client: Redis | undefined;
  #link: RedisLink | undefined;

  constructor(section: RedisSection | undefined, logger: Logger) {
    this.#section = section;
    this.#logger = logger;
  }

  /** Key prefix from the file (`pingora-ts:` by default). */
  get prefix(): string {
    return this.#section?.key_prefix ?? 'pingora-ts:';
  }

  /**
   * The link, connecting on the first call.
   * @throws Error when the file has no `redis` section (the schema refuses such a file).
   */
  link(): RedisLink {
    if (this.#link !== undefined) return this.#link;
    const section = this.#section;
    if (section === undefined) throw new Error('a Redis store needs a top-level "redis" section');
    // Calls made while the first connection is being set up wait for it (each within the link's
    // deadline), so a proxy that serves at once does not report an outage at start-up. From then
    // on no offline queue and no retries per request: while Redis is away a call fails at once
    // and the link falls back, instead of requests piling up behind a reconnect.
    const client = new Redis(section.url, {
      enableOfflineQueue: true,
      maxRetriesPerRequest: 0,
      commandTimeout: Math.max(1, Math.ceil(section.timeout)),
      retryStrategy: (times) => Math.min(50 * times, 2_000),
    });
    const noQueue = () => {
      client.options.enableOfflineQueue = false;
    };
    client.once('ready', noQueue);
    client.once('error', noQueue);
    // ioredis emits every failed reconnect; the link already logs the outage once.
    client.on('error', () => undefined);
    this.#client = client;
    this.#link = new RedisLink(client, {
      logger: this.#logger,
      timeoutMs: Math.max(1, section.timeout),
    });
    return this.#link;
  }

  /**
   * Resolves once the first connection attempt is decided: up, refused, or still pending after a
   * few seconds (at once when no connection was opened). The first requests then go to Redis
   * rather than to the fallback, and a Redis that is down does not hold up the start.
   */
  async ready(): Promise<void> {
    const client = this.#client;
    if (client === undefined || client.status === 'ready') return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        client.off('ready', done);
        client.off('error', done);
        resolve();
      };
      const timer = setTimeout(done, READY_WAIT_MS);
      client.once('ready', done);
      client.once('error', done);
    });
  }

  /** Closes the connection (a polite QUIT, then a hard disconnect if Redis does not answer). */
  async close(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    this.#link = undefined;
    if (client === undefined) return;
    if (client.status !== 'ready') {
      client.disconnect();
      return;
    }
    const quit = client.quit().then(
      () => undefined,
      () => undefined,
    );
    const timeout = new Promise<void>((r) => setTimeout(r, 1_000).unref());
    await Promise.race([quit, timeout]);
    client.disconnect();
  }
}
