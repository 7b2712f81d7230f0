/** The `observability` section (access log, Prometheus, tracing) and the shared stores. */
import { z } from 'zod';
import { address, duration, size } from './common.js';

/** Access log, metrics endpoint and tracing. */
export const observabilitySection = z
  .strictObject({
    access_log: z
      .union([
        z.boolean(),
        z.strictObject({
          format: z.enum(['readable', 'json']).default('readable'),
        }),
      ])
      .default(true)
      .meta({ description: 'One line per request (true: readable format; false: off)' }),
    prometheus: z
      .strictObject({
        address: address.meta({ description: 'Where /metrics is served, e.g. 127.0.0.1:9091' }),
      })
      .optional()
      .meta({ description: 'Prometheus metrics endpoint (aggregates every worker)' }),
    tracing: z.boolean().default(false).meta({
      description: 'OpenTelemetry spans per request and per upstream attempt (needs an SDK registered)',
    }),
  })
  .meta({ description: 'Logs, metrics and tracing' });

/** Storage settings shared by the routes that cache. */
export const cacheSection = z
  .strictObject({
    memory: z
      .strictObject({ max_size: size.default(64 * 1024 * 1024) })
      .optional()
      .meta({ description: 'In-memory storage (per process)' }),
    disk: z
      .strictObject({
        path: z.string().min(1).meta({ description: 'Directory (relative paths: from the config file)' }),
        max_size: size.default(1024 * 1024 * 1024),
      })
      .optional()
      .meta({ description: 'Disk storage shared by the workers, kept across restarts' }),
    lock_timeout: duration
      .default(5_000)
      .meta({ description: 'How long requests wait for another one filling the asset' }),
  })
  .meta({ description: 'Cache storages used by routes with `cache`' });

/** The Redis server used by `storage: redis` and `store: redis`. */
export const redisSection = z
  .strictObject({
    url: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL'),
    key_prefix: z.string().default('pingora-ts:'),
    timeout: duration.default(250).meta({
      description: 'Each Redis call has this deadline; on expiry the request goes on without Redis',
    }),
  })
  .meta({ description: 'Redis for shared caching and rate limits' });

export type ObservabilitySection = z.output<typeof observabilitySection>;
export type CacheSection = z.output<typeof cacheSection>;
export type RedisSection = z.output<typeof redisSection>;
