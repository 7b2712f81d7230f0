/**
 * The `server` section handed to `@pingora-ts/core`: written back as a Pingora conf file and read
 * by `ServerConf.fromYaml`, so core's own checks stay the authority on those keys.
 */
import { ServerConf } from '@pingora-ts/core';
import { stringify } from 'yaml';
import type { GatewayConfig } from '../schema/index.js';
import { formatPath, GatewayConfigError } from './problem.js';

/** A problem core found in the `server` section, as a key path under `server`. */
export interface ServerConfIssue {
  readonly path: PropertyKey[];
  readonly message: string;
}

/** `<file>:<line>: <key>[.<index>]: <message>` (core's one-line form) to a path and message. */
function parseCoreMessage(message: string, file: string): ServerConfIssue {
  const rest = message.startsWith(`${file}:`)
    ? message.slice(file.length + 1).replace(/^\d+: /, '')
    : message;
  const m = /^([a-z0-9_]+)((?:\.\d+)*): (.*)$/s.exec(rest);
  if (m === null) return { path: ['server'], message: rest };
  const indexes = m[2]!
    .split('.')
    .filter((s) => s !== '')
    .map(Number);
  return { path: ['server', m[1]!, ...indexes], message: m[3]! };
}

/**
 * `ServerConf` from the `server` section, or the first problem core reports with it. Used by
 * validation, which places the problem in the file; {@link serverConfFromGateway} throws it.
 */
export function tryServerConf(
  config: GatewayConfig,
  file: string,
): { ok: true; conf: ServerConf } | { ok: false; issue: ServerConfIssue } {
  // `version` here is Pingora's conf version, not the gateway file's.
  const text = stringify({ version: 1, ...config.server });
  try {
    return { ok: true, conf: ServerConf.fromYaml(text, file) };
  } catch (err) {
    return { ok: false, issue: parseCoreMessage(err instanceof Error ? err.message : String(err), file) };
  }
}

/**
 * Core's `ServerConf` for a validated gateway file: the `server` section, checked again by
 * `ServerConf.fromYaml`. Throws a {@link GatewayConfigError} (without a line: the section was
 * already validated against the file, so this only fails on values core refuses and the gateway
 * schema lets through).
 *
 * @example
 * ```ts
 * const { config, file } = loadGatewayConfig('proxy.yaml');
 * const conf = serverConfFromGateway(config, file);
 * conf.gracePeriodSeconds; // 300 unless the file says otherwise
 * ```
 */
export function serverConfFromGateway(config: GatewayConfig, file: string): ServerConf {
  const result = tryServerConf(config, file);
  if (result.ok) return result.conf;
  const { path, message } = result.issue;
  throw new GatewayConfigError([{ file, line: 0, column: 0, path: formatPath(path), message }]);
}
