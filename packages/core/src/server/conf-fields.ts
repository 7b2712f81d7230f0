/**
 * The schema of the YAML server configuration: one row per Pingora key (reference §3.3), with the
 * camelCase name, the expected shape and its range. `conf.ts` walks a parsed YAML document with it.
 */
import { isIP } from 'node:net';

/** The shape a key accepts. `nullable`: YAML `null` (`key: ~` or `key:`) means "unset". */
export type FieldKind =
  | { readonly t: 'bool' }
  | { readonly t: 'string'; readonly nullable: boolean }
  | { readonly t: 'int'; readonly min: number; readonly nullable: boolean }
  | { readonly t: 'ips'; readonly family: 4 | 6 };

/** One configuration key. */
export interface FieldSpec {
  /** The key as written in YAML (snake_case). */
  readonly yaml: string;
  /** The property on `ServerConf` (camelCase). */
  readonly prop: string;
  readonly kind: FieldKind;
}

const bool = { t: 'bool' } as const;
const str = { t: 'string', nullable: false } as const;
const optStr = { t: 'string', nullable: true } as const;
const int = (min: number, nullable = false) => ({ t: 'int', min, nullable }) as const;

const ROWS: ReadonlyArray<readonly [string, FieldKind]> = [
  ['version', int(0)],
  ['daemon', bool],
  ['error_log', optStr],
  ['pid_file', str],
  ['upgrade_sock', str],
  ['user', optStr],
  ['group', optStr],
  ['working_directory', optStr],
  ['threads', int(1)],
  ['listener_tasks_per_fd', int(1)],
  ['work_stealing', bool],
  ['ca_file', optStr],
  ['grace_period_seconds', int(0, true)],
  ['graceful_shutdown_timeout_seconds', int(0, true)],
  ['client_bind_to_ipv4', { t: 'ips', family: 4 }],
  ['client_bind_to_ipv6', { t: 'ips', family: 6 }],
  ['upstream_keepalive_pool_size', int(0)],
  ['upstream_connect_offload_threadpools', int(0, true)],
  ['upstream_connect_offload_thread_per_pool', int(0, true)],
  ['upstream_debug_ssl_keylog', bool],
  ['max_retries', int(0)],
  ['upgrade_sock_connect_accept_max_retries', int(0, true)],
  ['max_blocking_threads', int(1, true)],
  ['blocking_threads_ttl_seconds', int(0, true)],
  ['daemon_wait_for_ready', bool],
  ['daemon_ready_timeout_seconds', int(0)],
  ['daemon_notify_timeout_seconds', int(0)],
  ['s2n_config_cache_size', int(0, true)],
];

function camel(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Every known key, by its YAML name. */
export const FIELDS: ReadonlyMap<string, FieldSpec> = new Map(
  ROWS.map(([yaml, kind]) => [yaml, { yaml, prop: camel(yaml), kind }]),
);

/** A problem with one value; `path` is relative to the key (`''` or an index such as `'.1'`). */
export interface ValueIssue {
  readonly path: string;
  readonly index?: number;
  readonly message: string;
}

function show(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return JSON.stringify(value);
  return String(value);
}

/**
 * Check `value` against `kind`. Returns the value to store (`undefined` for an unset nullable
 * key, meaning "keep the default") or the issues found.
 */
export function checkValue(kind: FieldKind, value: unknown): { value: unknown } | { issues: ValueIssue[] } {
  const bad = (expected: string) => ({
    issues: [{ path: '', message: `expected ${expected}, got ${show(value)}` }],
  });
  switch (kind.t) {
    case 'bool':
      return typeof value === 'boolean' ? { value } : bad('true or false');
    case 'string':
      if (value === null && kind.nullable) return { value: undefined };
      return typeof value === 'string' ? { value } : bad('a string');
    case 'int': {
      if (value === null && kind.nullable) return { value: undefined };
      const expected = `an integer >= ${kind.min}`;
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < kind.min) return bad(expected);
      return { value };
    }
    case 'ips': {
      if (!Array.isArray(value)) return bad(`a list of IPv${kind.family} addresses`);
      const issues: ValueIssue[] = [];
      value.forEach((item, index) => {
        if (typeof item !== 'string' || isIP(item) !== kind.family) {
          issues.push({
            path: `.${index}`,
            index,
            message: `expected an IPv${kind.family} address, got ${show(item)}`,
          });
        }
      });
      return issues.length > 0 ? { issues } : { value: [...value] };
    }
  }
}

/** Edit distance, to suggest the intended key for a misspelt one. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const sub = prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      cur.push(Math.min(sub, prev[j]! + 1, cur[j - 1]! + 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/** The known key closest to `key`, if it is close enough to be a likely typo. */
export function suggestKey(key: string): string | undefined {
  for (const spec of FIELDS.values()) {
    // `maxRetries` for `max_retries`, or a truncated key such as `grace_period`.
    if (spec.prop === key || (key.length >= 4 && spec.yaml.startsWith(key))) return spec.yaml;
  }
  let best: string | undefined;
  let bestDist = Math.max(2, Math.floor(key.length / 4)) + 1;
  for (const known of FIELDS.keys()) {
    const d = distance(key, known);
    if (d < bestDist) {
      best = known;
      bestDist = d;
    }
  }
  return best;
}
