/**
 * The `routes` section: tried in order, the first whose `match` fits the request handles it.
 * A route has one action (`upstream`, `redirect`, `respond` or `static`) and any of the
 * per-route rules (headers, rewrite, CIDR, rate limit, cache, compression).
 */
import { z } from 'zod';
import { cidr, duration, headerRules, isRegex, requestKey, size } from './common.js';
import { whenMapping } from './cross-refs.js';

const regex = z.string().refine(isRegex, 'must be a valid regular expression');
const oneOrMany = <T extends z.ZodType>(t: T) => z.union([t, z.array(t).min(1)]);

/** What a request must look like; every given condition must hold. Empty: every request. */
export const routeMatch = z
  .strictObject({
    host: oneOrMany(z.string().min(1)).optional().meta({
      description: 'Host (without port); "*.example.com" matches subdomains. Several: any of them',
    }),
    path_prefix: z.string().startsWith('/').optional().meta({ description: 'Path starts with this' }),
    path_regex: regex.optional().meta({ description: 'Path matches this regular expression' }),
    path: z.string().startsWith('/').optional().meta({ description: 'Path is exactly this' }),
    method: oneOrMany(z.string().regex(/^[A-Z]+$/, 'must be an upper-case method such as GET')).optional(),
    headers: z
      .record(z.string(), z.union([z.string(), z.boolean()]))
      .optional()
      .meta({
        description:
          'Header has this exact value (true: is present and not empty, false: is absent or empty)',
      }),
    scheme: z.enum(['http', 'https']).optional().meta({
      description: 'How the request arrived: https on a TLS listener, http on a plain one',
    }),
    port: oneOrMany(z.number().int().min(1).max(65535)).optional().meta({
      description: "Local port the request arrived on (the listener's). Several: any of them",
    }),
  })
  .meta({ description: 'Conditions on the request; all must hold' });

/** Answer with a redirect. */
export const redirectAction = z.strictObject({
  to: z.string().min(1).meta({
    description: 'Location; "$host" (without port), "$path" and "$uri" (path and query) are replaced',
  }),
  status: z
    .union([z.literal(301), z.literal(302), z.literal(303), z.literal(307), z.literal(308)])
    .default(302),
});

/** Answer with a fixed response. */
export const respondAction = z.strictObject({
  status: z.number().int().min(100).max(599).default(200),
  body: z.string().default(''),
  headers: z.record(z.string(), z.string()).optional(),
});

/** Serve files from a directory. */
export const staticAction = z.strictObject({
  root: z.string().min(1).meta({ description: 'Directory served (relative paths: from the config file)' }),
  index: z.string().default('index.html').meta({ description: 'File served for a directory' }),
  max_age: duration.optional().meta({ description: 'Cache-Control max-age sent with files' }),
});

/** A rate limit: more than `requests` per `per` for one key gets 429. */
export const rateLimit = z.strictObject({
  requests: z.number().int().positive(),
  per: duration.default(1_000).meta({ description: 'Window (default 1s)' }),
  key: requestKey
    .default('client_ip')
    .meta({ description: 'Counted per this value (default client_ip; "route": one count for the route)' }),
  store: z
    .enum(['local', 'redis'])
    .default('local')
    .meta({ description: 'local: per process; redis: shared (needs `redis`)' }),
});

/** Response caching on a route. */
export const routeCache = z
  .strictObject({
    storage: z
      .enum(['memory', 'disk', 'redis'])
      .default('memory')
      .meta({ description: 'Where assets live (disk and redis need `cache`/`redis` settings)' }),
    ttl: duration
      .default(60_000)
      .meta({ description: 'Freshness of a 200 the origin gives no Cache-Control for' }),
    stale_while_revalidate: duration.default(0),
    stale_if_error: duration.default(60_000),
    vary: z
      .array(z.string())
      .optional()
      .meta({ description: 'Headers the cache may vary on; Vary on others makes a response uncacheable' }),
    key: z.array(requestKey).optional().meta({ description: 'Extra request values in the cache key' }),
    max_file_size: size.default(8 * 1024 * 1024),
    purge: z
      .boolean()
      .default(false)
      .meta({ description: 'Accept PURGE requests (from the addresses in `purge_allow`)' }),
    purge_allow: z.array(cidr).min(1).optional().meta({
      description: 'Client addresses that may PURGE (others get 403); default: this machine (loopback) only',
    }),
    lock: z
      .boolean()
      .default(true)
      .meta({ description: 'One request fills a missing asset while the others wait' }),
  })
  .refine((c) => c.purge_allow === undefined || c.purge, {
    message: 'purge_allow needs purge: true',
    path: ['purge_allow'],
  });

/** Response compression on a route. */
export const routeCompression = z.union([
  z.boolean(),
  z.strictObject({ level: z.number().int().min(1).max(9).default(6) }),
]);

/** One route. Exactly one of `upstream`, `redirect`, `respond` and `static`. */
export const route = z
  .strictObject({
    name: z.string().min(1).optional().meta({ description: 'Used in logs and metrics (default: routes[i])' }),
    match: routeMatch.default({}),
    upstream: z.string().optional().meta({ description: 'Proxy to this cluster' }),
    redirect: redirectAction.optional(),
    respond: respondAction.optional(),
    static: staticAction.optional(),
    rewrite: z
      .strictObject({
        strip_prefix: z.string().startsWith('/').optional(),
        add_prefix: z.string().startsWith('/').optional(),
        regex: regex.optional().meta({ description: 'Applied to the path; use with `replacement`' }),
        replacement: z
          .string()
          .optional()
          .meta({ description: '"$1" and friends refer to the regex groups' }),
      })
      .refine((r) => (r.regex === undefined) === (r.replacement === undefined), {
        message: 'regex and replacement go together',
        path: ['regex'],
      })
      .optional()
      .meta({ description: 'Path rewrite before proxying (strip_prefix, then regex, then add_prefix)' }),
    request_headers: headerRules.optional().meta({ description: 'Edits of the request sent upstream' }),
    response_headers: headerRules
      .optional()
      .meta({ description: 'Edits of the response sent to the client' }),
    allow: z.array(cidr).optional().meta({ description: 'Only these client addresses (others get 403)' }),
    deny: z.array(cidr).optional().meta({ description: 'These client addresses get 403' }),
    rate_limit: z.union([rateLimit, z.array(rateLimit).min(1)]).optional(),
    cache: z.union([z.boolean(), routeCache]).optional(),
    compression: routeCompression.optional(),
  })
  .superRefine((r, ctx) => {
    const actions = (['upstream', 'redirect', 'respond', 'static'] as const).filter(
      (k) => r[k] !== undefined,
    );
    if (actions.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message:
          actions.length === 0
            ? 'needs one action: upstream, redirect, respond or static'
            : `has ${actions.join(' and ')}: one action only`,
        path: actions.length === 0 ? [] : [actions[1]!],
      });
    }
  }, whenMapping)
  .meta({ description: 'A route: match, one action, rules' });

/** The `routes` section. */
export const routesSection = z.array(route).meta({
  description: 'Routes, tried in order; a request no route matches gets 404',
});

export type RouteConfig = z.output<typeof route>;
export type RouteMatch = z.output<typeof routeMatch>;
export type RateLimitConfig = z.output<typeof rateLimit>;
export type RouteCacheConfig = z.output<typeof routeCache>;
