/**
 * The `upstreams` section: named clusters of backends, how one is chosen per request, how
 * their health is checked, and how the proxy connects to them.
 */
import { z } from 'zod';
import { duration, hostPort, requestKey } from './common.js';
import { whenMapping } from './cross-refs.js';

/** A backend: `host:port`, or an object with a weight. */
export const backend = z.union([
  hostPort,
  z.strictObject({
    address: hostPort,
    weight: z
      .number()
      .int()
      .positive()
      .default(1)
      .meta({ description: 'Share of the traffic relative to the others' }),
  }),
]);

/** Backends found through DNS: every A/AAAA record of `name`, re-resolved every `refresh`. */
export const dnsDiscovery = z
  .strictObject({
    name: z.string().min(1).meta({ description: 'Host name to resolve' }),
    port: z.number().int().min(1).max(65535),
    refresh: duration.optional().meta({ description: 'How often to resolve again (default 30s)' }),
  })
  .meta({ description: 'Discover backends through DNS' });

/** Health checking: TCP connect, or an HTTP request whose answer must have an expected status. */
export const healthCheck = z
  .strictObject({
    type: z.enum(['tcp', 'http']).default('tcp'),
    interval: duration.optional().meta({ description: 'Time between checks (default 1s)' }),
    timeout: duration.optional().meta({ description: 'A check taking longer fails (default 1s)' }),
    path: z
      .string()
      .startsWith('/')
      .optional()
      .meta({ description: 'HTTP checks: path requested (default /)' }),
    host: z
      .string()
      .optional()
      .meta({ description: 'HTTP checks: Host header (default: host_header, else the backend address)' }),
    expected_status: z.number().int().min(100).max(599).optional().meta({
      description: 'HTTP checks: status a healthy backend answers (default: any 2xx)',
    }),
    healthy_after: z
      .number()
      .int()
      .positive()
      .optional()
      .meta({ description: 'Consecutive successes to become healthy (default 1)' }),
    unhealthy_after: z
      .number()
      .int()
      .positive()
      .optional()
      .meta({ description: 'Consecutive failures to become unhealthy (default 1)' }),
  })
  .meta({ description: 'Active health checks' });

/** TLS to the backends. */
export const upstreamTls = z
  .strictObject({
    sni: z
      .string()
      .optional()
      .meta({ description: 'Server name sent and verified (default: the backend host)' }),
    verify: z.boolean().default(true).meta({ description: 'Verify the backend certificate' }),
    ca: z.string().optional().meta({ description: 'CA bundle (PEM file) trusted for the backends' }),
    client_cert: z
      .string()
      .optional()
      .meta({ description: 'Client certificate (PEM file) for mTLS to the backends' }),
    client_key: z.string().optional(),
  })
  .refine((t) => (t.client_cert === undefined) === (t.client_key === undefined), {
    message: 'client_cert and client_key go together',
    path: ['client_cert'],
    ...whenMapping,
  });

/** Timeouts of the connections to this cluster. */
export const upstreamTimeouts = z.strictObject({
  connect: duration.optional().meta({ description: 'TCP connect (default 5s)' }),
  total_connect: duration.optional().meta({ description: 'TCP connect and TLS handshake together' }),
  read: duration.optional().meta({ description: 'Between two reads of the response (default 60s)' }),
  write: duration.optional().meta({ description: 'Between two writes of the request (default 60s)' }),
  idle: duration.optional().meta({ description: 'How long an idle connection stays pooled' }),
});

/** One cluster. Exactly one of `backends` and `dns`. */
export const upstream = z
  .strictObject({
    backends: z.array(backend).min(1).optional(),
    dns: dnsDiscovery.optional(),
    selection: z
      .enum(['round_robin', 'random', 'fnv', 'ketama', 'least_connections'])
      .default('round_robin')
      .meta({
        description:
          'How a backend is chosen: round_robin, random, fnv or ketama (hash of `hash_key`), least_connections',
      }),
    hash_key: requestKey.default('path').meta({ description: 'What fnv and ketama hash (default: path)' }),
    health_check: healthCheck.optional(),
    tls: z
      .union([z.boolean(), upstreamTls])
      .default(false)
      .meta({ description: 'TLS to the backends (true: verify against the default roots)' }),
    http2: z
      .boolean()
      .default(false)
      .meta({ description: 'Speak HTTP/2 to the backends (with TLS: offered by ALPN with h1 fallback)' }),
    timeouts: upstreamTimeouts.optional(),
    retries: z.number().int().nonnegative().default(2).meta({
      description:
        'A failed connection is retried this many times, each on a backend this request has not tried',
    }),
    host_header: z
      .string()
      .optional()
      .meta({ description: "Host header sent upstream (default: the client's)" }),
  })
  .refine((u) => (u.backends === undefined) !== (u.dns === undefined), {
    message: 'needs exactly one of "backends" and "dns"',
    ...whenMapping,
  })
  .meta({ description: 'A cluster of backends' });

/** The `upstreams` section: clusters by name. */
export const upstreamsSection = z
  .record(
    z.string().regex(/^[A-Za-z0-9_.-]+$/, 'cluster names use letters, digits, "_", "." and "-"'),
    upstream,
  )
  .meta({ description: 'Upstream clusters by name' });

export type Upstream = z.output<typeof upstream>;
export type UpstreamTls = z.output<typeof upstreamTls>;
export type HealthCheckConfig = z.output<typeof healthCheck>;
