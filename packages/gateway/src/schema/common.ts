/**
 * Value types shared by every section of the gateway file: durations, sizes, addresses, CIDR
 * blocks, request keys and header rules. Each is a zod schema, so the validator, the TypeScript
 * types and the published JSON Schema all come from this one definition.
 */
import { isIP } from 'node:net';
import { z } from 'zod';

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const DURATION_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/**
 * A duration: `"250ms"`, `"5s"`, `"2m"`, `"1h"`, or a bare number of seconds. Parsed to milliseconds.
 *
 * @example
 * ```ts
 * duration.parse('1.5s'); // 1500
 * ```
 */
export const duration = z
  .union([
    z.number().nonnegative(),
    z.string().regex(DURATION, 'must be a duration such as "250ms", "5s", "2m" or "1h"'),
  ])
  .transform((v) => {
    if (typeof v === 'number') return v * 1_000;
    const m = DURATION.exec(v)!;
    return Number(m[1]) * DURATION_MS[m[2]!]!;
  })
  .meta({ description: 'A duration: "250ms", "5s", "2m", "1h", or a number of seconds' });

const SIZE = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|KiB|MiB|GiB)?$/;
const SIZE_BYTES: Record<string, number> = {
  B: 1,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
};

/** A size in bytes: a number, or `"64KiB"`, `"10MB"`, `"1GiB"`. Parsed to bytes. */
export const size = z
  .union([
    z.number().int().nonnegative(),
    z.string().regex(SIZE, 'must be a size such as 65536, "64KiB", "10MB" or "1GiB"'),
  ])
  .transform((v) => {
    if (typeof v === 'number') return v;
    const m = SIZE.exec(v)!;
    return Math.floor(Number(m[1]) * SIZE_BYTES[m[2] ?? 'B']!);
  })
  .meta({ description: 'A size: a number of bytes, or "64KiB", "10MB", "1GiB"' });

/**
 * A TCP address `host:port` (`127.0.0.1:8080`, `[::1]:8080`, `localhost:8080`) or a Unix socket
 * path (`unix:/run/proxy.sock` or an absolute path).
 */
export const address = z
  .string()
  .refine(
    (v) => v.startsWith('unix:') || v.startsWith('/') || /^(\[[0-9a-fA-F:.]+\]|[^:\s[\]]+):\d{1,5}$/.test(v),
    'must be "host:port", "[ipv6]:port", "unix:/path" or an absolute socket path',
  )
  .meta({ description: 'host:port, [ipv6]:port, unix:/path, or an absolute Unix socket path' });

/** A TCP address `host:port` only (upstream backends). */
export const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[^:\s[\]]+):\d{1,5}$/, 'must be "host:port" or "[ipv6]:port"')
  .meta({ description: 'host:port or [ipv6]:port' });

function validCidr(v: string): boolean {
  const slash = v.indexOf('/');
  const ip = slash === -1 ? v : v.slice(0, slash);
  const family = isIP(ip);
  if (family === 0) return false;
  if (slash === -1) return true;
  const bits = v.slice(slash + 1);
  if (!/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}

/** An IP address or CIDR block: `10.0.0.0/8`, `192.0.2.7`, `2001:db8::/32`. */
export const cidr = z
  .string()
  .refine(validCidr, 'must be an IP address or a CIDR block such as "10.0.0.0/8" or "2001:db8::/32"')
  .meta({ description: 'An IP address or CIDR block' });

/**
 * A value taken from the request, used as a hashing, rate-limit or cache key:
 * `path`, `uri` (path and query), `host`, `method`, `client_ip`, `route`, `header:<name>`,
 * `cookie:<name>`, `query:<name>`.
 */
export const requestKey = z
  .string()
  .regex(
    /^(path|uri|host|method|client_ip|route|header:[!#$%&'*+.^_`|~0-9A-Za-z-]+|cookie:[^\s;=]+|query:[^\s&=]+)$/,
    'must be path, uri, host, method, client_ip, route, header:<name>, cookie:<name> or query:<name>',
  )
  .meta({
    description:
      'A request value: path, uri, host, method, client_ip, route, header:<name>, cookie:<name>, query:<name>',
  });

const headerName = z
  .string()
  .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, "must be a header name (letters, digits and !#$%&'*+.^_`|~-)");

/** Header edits applied in this order: remove, remove_regex, set, append. */
export const headerRules = z
  .strictObject({
    set: z.record(headerName, z.string()).optional().meta({ description: 'Replace (or add) these headers' }),
    append: z
      .record(headerName, z.string())
      .optional()
      .meta({ description: 'Add these headers, keeping existing values' }),
    remove: z.array(headerName).optional().meta({ description: 'Remove these headers' }),
    remove_regex: z.array(z.string().refine(isRegex, 'must be a valid regular expression')).optional().meta({
      description:
        'Remove every header whose name matches one of these regular expressions (case-insensitive)',
    }),
  })
  .meta({ description: 'Header edits, applied in the order remove, remove_regex, set, append' });

/** True when `v` compiles as a JavaScript regular expression. */
export function isRegex(v: string): boolean {
  try {
    new RegExp(v);
    return true;
  } catch {
    return false;
  }
}

/** Paths to PEM files: a certificate (chain) and its key. */
export const certKeyFiles = z.strictObject({
  cert: z.string().min(1).meta({ description: 'Certificate chain, PEM file path' }),
  key: z.string().min(1).meta({ description: 'Private key, PEM file path' }),
});

export type HeaderRules = z.output<typeof headerRules>;
export type RequestKey = z.output<typeof requestKey>;
