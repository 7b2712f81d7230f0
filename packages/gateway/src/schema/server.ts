/**
 * The `server` section: the ServerConf keys of `@pingora-ts/core`, spelled as in a Pingora
 * conf file. They are handed to `ServerConf.fromYaml`, which checks them again; this schema is
 * what editors complete and what `-t` reports with line and column.
 */
import { isIP } from 'node:net';
import { z } from 'zod';

const positiveInt = z.number().int().positive();

/** The `server` section. Every key is optional; omitted keys keep ServerConf's defaults. */
export const serverSection = z
  .strictObject({
    threads: positiveInt.optional().meta({ description: 'Worker processes sharing the listeners (1: none)' }),
    daemon: z.boolean().optional().meta({ description: 'Run in the background' }),
    pid_file: z.string().optional().meta({ description: 'Where the daemon writes its pid' }),
    upgrade_sock: z
      .string()
      .optional()
      .meta({ description: 'Socket a new process started with -u takes the listeners over' }),
    error_log: z.string().optional().meta({ description: 'File the log goes to (default: stderr)' }),
    user: z.string().optional().meta({ description: 'Switch to this user after daemonizing' }),
    group: z.string().optional().meta({ description: 'Switch to this group after daemonizing' }),
    working_directory: z.string().optional(),
    grace_period_seconds: z.number().int().nonnegative().optional().meta({
      description: 'How long in-flight requests may finish after a graceful shutdown or upgrade starts',
    }),
    graceful_shutdown_timeout_seconds: z.number().int().nonnegative().optional(),
    ca_file: z
      .string()
      .optional()
      .meta({ description: "CA bundle trusted for upstream TLS (default: Node's roots)" }),
    upstream_keepalive_pool_size: z.number().int().nonnegative().optional(),
    max_retries: z.number().int().nonnegative().optional(),
    client_bind_to_ipv4: z
      .array(z.string().refine((v) => isIP(v) === 4, 'must be an IPv4 address'))
      .optional()
      .meta({ description: 'Source addresses of connections to IPv4 upstreams (one picked at random)' }),
    client_bind_to_ipv6: z
      .array(z.string().refine((v) => isIP(v) === 6, 'must be an IPv6 address'))
      .optional()
      .meta({ description: 'Source addresses of connections to IPv6 upstreams (one picked at random)' }),
    upgrade_sock_connect_accept_max_retries: z.number().int().nonnegative().optional(),
    daemon_wait_for_ready: z.boolean().optional(),
    daemon_ready_timeout_seconds: z.number().int().positive().optional(),
  })
  .meta({ description: 'Process settings: the ServerConf keys of @pingora-ts/core' });

export type ServerSection = z.output<typeof serverSection>;
