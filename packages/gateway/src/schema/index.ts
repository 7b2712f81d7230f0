/**
 * The gateway file as one zod schema. `gatewayConfig` validates a parsed YAML document;
 * `GatewayConfig` is its output type (durations in ms, sizes in bytes, defaults filled in).
 */
import { z } from 'zod';
import { checkCrossReferences, whenMapping } from './cross-refs.js';
import { listenersSection } from './listeners.js';
import { cacheSection, observabilitySection, redisSection } from './observability.js';
import { routesSection } from './routes.js';
import { serverSection } from './server.js';
import { upstreamsSection } from './upstreams.js';

/** Listener used when the file names none. */
export const DEFAULT_LISTENER = '0.0.0.0:8080';

/**
 * The whole file. Cross-references are checked here too (`cross-refs.ts`), even when other parts
 * are wrong: a route's `upstream` must name a cluster, `store: redis` and `storage: redis` need
 * `redis`, `storage: disk` needs `cache.disk`.
 *
 * @example
 * ```ts
 * const config = gatewayConfig.parse({ upstreams: { app: { backends: ['127.0.0.1:3000'] } } });
 * config.routes; // [] — `compileRoutes` sends everything to the only cluster
 * ```
 */
export const gatewayConfig = z
  .strictObject({
    $schema: z.string().optional(),
    version: z.literal(1).default(1).meta({ description: 'File format version' }),
    server: serverSection.default({}),
    listeners: listenersSection.default([DEFAULT_LISTENER]),
    upstreams: upstreamsSection.default({}),
    routes: routesSection.default([]),
    cache: cacheSection.optional(),
    redis: redisSection.optional(),
    observability: observabilitySection.default({ access_log: true, tracing: false }),
  })
  .superRefine(checkCrossReferences, whenMapping)
  .meta({ title: 'pingora-ts gateway configuration', description: 'A proxy described by one YAML file' });

/** The validated file: defaults filled in, durations in milliseconds, sizes in bytes. */
export type GatewayConfig = z.output<typeof gatewayConfig>;
/** The file as written (what the JSON Schema describes). */
export type GatewayConfigInput = z.input<typeof gatewayConfig>;

export * from './common.js';
export * from './listeners.js';
export * from './observability.js';
export * from './routes.js';
export * from './server.js';
export * from './upstreams.js';
