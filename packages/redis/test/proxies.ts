/**
 * A caching pingora-ts proxy on 127.0.0.1:0 whose cache storage and lock live in Redis, built
 * from the public APIs only, as a user would. Several of them with one prefix share their cache.
 */
import { HttpPeer, HttpServer, Service, ShutdownController } from '@pingora-ts/core';
import { HttpProxy, type ProxyHttp } from '@pingora-ts/proxy';
import { type CapturedLog, memoryLogger, onClose, startService } from '@pingora-ts/test-utils';
import { RedisCacheLock, RedisLink, RedisStorage } from '../src/index.js';
import type { TestRedis } from './redis-server.js';

// Behind one balancer, clients name the same host whichever instance answers (the cache key has it).
export const SAME_HOST = { headers: { host: 'cdn.example' } };

export interface CachingProxy {
  lock: RedisCacheLock;
  link: RedisLink;
  /** Commands this instance sent to Redis (its main connection). */
  sent: { count: number };
  /** What its RedisLink logged. */
  redisLog: CapturedLog[];
  url(path: string): string;
}

/** One proxy instance with its own connection to the shared Redis; closed by `closeAll()`. */
export async function cachingProxy(
  redis: TestRedis,
  prefix: string,
  originPort: number,
): Promise<CachingProxy> {
  const client = await redis.readyClient();
  const sent = { count: 0 };
  const send = client.sendCommand.bind(client);
  client.sendCommand = ((...args: Parameters<typeof send>) => {
    sent.count++;
    return send(...args);
  }) as typeof client.sendCommand;
  const redisLogger = memoryLogger();
  const link = new RedisLink(client, { logger: redisLogger, timeoutMs: 500, retryIntervalMs: 100 });
  const storage = new RedisStorage(link, { prefix: `${prefix}cache:` });
  const lock = new RedisCacheLock(link, {
    prefix: `${prefix}lock:`,
    ageTimeoutMs: 10_000,
    waitTimeoutMs: 10_000,
  });
  onClose(() => lock.close());
  const inner: ProxyHttp = {
    upstreamPeer: () => new HttpPeer(`127.0.0.1:${originPort}`, false, ''),
    requestCacheFilter: (s) => s.cache.enable(storage, undefined, undefined, lock),
    responseFilter: (s, resp) => void resp.insertHeader('x-cache-status', s.cache.cachePhaseName()),
  };
  const logger = memoryLogger();
  const service = new Service('redis proxy', new HttpServer(new HttpProxy(inner, { logger })), { logger });
  service.addTcp('127.0.0.1:0');
  const port = await startService(service, new ShutdownController());
  return {
    lock,
    link,
    sent,
    redisLog: redisLogger.lines,
    url: (path: string) => `http://127.0.0.1:${port}${path}`,
  };
}
