/**
 * `ServerConf`: Pingora's YAML server configuration (reference §3.3), snake_case in the file and
 * camelCase here, with Pingora's defaults.
 *
 * Unlike Pingora, which ignores unknown keys, loading is strict: a misspelt key (`grace_period:`)
 * would otherwise silently leave a default in place. Keys that belong to the user's own program
 * are allowed by name with `extraKeys` (or all at once with `allowUnknownKeys`) and are kept,
 * as parsed, in {@link ServerConf.extra}.
 */
import { readFileSync } from 'node:fs';
import { ErrorType } from '@pingora-ts/error';
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import { describeOsError, lineError } from '../error-text.js';
import { checkValue, FIELDS, suggestKey } from './conf-fields.js';

/** Options of {@link ServerConf.load} and {@link ServerConf.fromYaml}. */
export interface ConfLoadOptions {
  /** Top-level keys the application reads itself (e.g. `['my_app']`); stored in `extra`. */
  extraKeys?: readonly string[];
  /** Accept and keep every unknown top-level key, as Pingora does. Default false. */
  allowUnknownKeys?: boolean;
}

/** The plain data of a {@link ServerConf} (what its constructor accepts). */
export type ServerConfValues = {
  -readonly [K in keyof ServerConf as ServerConf[K] extends (...a: never[]) => unknown
    ? never
    : K]: ServerConf[K];
};

/**
 * Server configuration. Every key of Pingora's `ServerConf` is here; keys that only matter to
 * Pingora's Rust runtime (`work_stealing`, blocking thread pools, s2n) are parsed and kept for
 * file compatibility but have no effect.
 *
 * @example
 * ```ts
 * // conf.yaml:  version: 1 \n grace_period_seconds: 30 \n my_app: { routes: 3 }
 * const conf = ServerConf.load('conf.yaml', { extraKeys: ['my_app'] });
 * conf.gracePeriodSeconds; // 30
 * conf.extra.my_app;       // { routes: 3 }
 * ```
 */
export class ServerConf {
  /** `version`. Default 0 when loaded from a file without it; {@link ServerConf.default} gives 1. */
  version = 1;
  /** `daemon`: run in the background (also set by `-d`). */
  daemon = false;
  /** `error_log`: file the logger appends to. Default: stderr. */
  errorLog: string | undefined = undefined;
  /** `pid_file`: written when daemonized. */
  pidFile = '/tmp/pingora.pid';
  /** `upgrade_sock`: where a new process started with `-u` waits for the old one's listening sockets. */
  upgradeSock = '/tmp/pingora_upgrade.sock';
  /** `user`: switch to this user after daemonizing. */
  user: string | undefined = undefined;
  /** `group`: switch to this group after daemonizing. */
  group: string | undefined = undefined;
  /** `working_directory`: directory the daemon changes to. */
  workingDirectory: string | undefined = undefined;
  /** `threads`: per-service thread count in Pingora; kept for compatibility (one event loop here). */
  threads = 1;
  /** `listener_tasks_per_fd`: accept tasks per listening socket in Pingora; no effect here. */
  listenerTasksPerFd = 1;
  /** `work_stealing`: tokio scheduling mode in Pingora; no effect here. */
  workStealing = true;
  /**
   * `ca_file`: CA bundle (PEM) trusted for upstream TLS peers that set no `options.ca`; read when
   * a connector is built from this configuration (`Connector.fromServerConf`, `httpProxyService`).
   * Default: Node's bundled Mozilla roots.
   */
  caFile: string | undefined = undefined;
  /** `grace_period_seconds`: how long in-flight work may continue after a graceful shutdown starts. */
  gracePeriodSeconds = 300;
  /** `graceful_shutdown_timeout_seconds`: extra time for services' cleanup after the grace period. */
  gracefulShutdownTimeoutSeconds = 5;
  /**
   * `client_bind_to_ipv4`: source addresses of upstream connections to IPv4 origins, one picked at
   * random per connection; a peer's `options.bindTo` wins. Default: none (the OS picks).
   */
  clientBindToIpv4: string[] = [];
  /** `client_bind_to_ipv6`: the same for upstream connections to IPv6 origins. */
  clientBindToIpv6: string[] = [];
  /** `upstream_keepalive_pool_size`: idle upstream connections kept in total. */
  upstreamKeepalivePoolSize = 128;
  /** `upstream_connect_offload_threadpools`: Pingora-only; no effect here. */
  upstreamConnectOffloadThreadpools: number | undefined = undefined;
  /** `upstream_connect_offload_thread_per_pool`: Pingora-only; no effect here. */
  upstreamConnectOffloadThreadPerPool: number | undefined = undefined;
  /** `upstream_debug_ssl_keylog`: log upstream TLS keys to `$SSLKEYLOGFILE`. */
  upstreamDebugSslKeylog = false;
  /** `max_retries`: cap on proxy retries per request. */
  maxRetries = 16;
  /**
   * `upgrade_sock_connect_accept_max_retries`: how many more times (1 s apart) the new process waits
   * on `upgrade_sock` and the old one tries to connect to it (Pingora parses it but uses a fixed 5).
   */
  upgradeSockConnectAcceptMaxRetries = 5;
  /** `max_blocking_threads`: Pingora-only (tokio); no effect here. 0 is rejected. */
  maxBlockingThreads: number | undefined = undefined;
  /** `blocking_threads_ttl_seconds`: Pingora-only (tokio); no effect here. */
  blockingThreadsTtlSeconds: number | undefined = undefined;
  /** `daemon_wait_for_ready`: the launching process exits only once the daemon is serving. */
  daemonWaitForReady = false;
  /** `daemon_ready_timeout_seconds`: how long the launcher waits for that. */
  daemonReadyTimeoutSeconds = 600;
  /** `daemon_notify_timeout_seconds`: Pingora's readiness-signal timeout; kept for compatibility. */
  daemonNotifyTimeoutSeconds = 60;
  /** `s2n_config_cache_size`: s2n-only; no effect here. */
  s2nConfigCacheSize: number | undefined = 10;
  /** The application's own top-level keys (see {@link ConfLoadOptions}), as parsed. */
  extra: Record<string, unknown> = {};

  /** Defaults (`version: 1`) overridden by `values`; no validation beyond the types. */
  constructor(values: Partial<ServerConfValues> = {}) {
    Object.assign(this, values);
  }

  /** Pingora's `ServerConf::new()`: every default, `version: 1`. */
  static default(): ServerConf {
    return new ServerConf();
  }

  /**
   * Read and validate a YAML file. Throws a `PingoraError` whose message is one line:
   * `FileReadError` when the file cannot be read (`conf.yaml: cannot read: no such file or
   * directory (ENOENT)`), `InternalError` when its content is invalid (see {@link ServerConf.fromYaml}).
   */
  static load(path: string, opts: ConfLoadOptions = {}): ServerConf {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw lineError(ErrorType.FileReadError, `${path}: cannot read: ${describeOsError(err)}`, err);
    }
    return ServerConf.fromYaml(text, path, opts);
  }

  /**
   * Parse and validate YAML text; `path` only labels error messages. Throws a `PingoraError`
   * (`InternalError`) for bad YAML, a wrong type or range, or an unknown key; its message is the
   * first problem as one line, `<file>:<line>: <key>: <what is wrong>`, for example
   * `conf.yaml:3: treads: unknown key (did you mean "threads"?)`. Keys of your own program are
   * not unknown once listed in `extraKeys`.
   */
  static fromYaml(text: string, path?: string, opts: ConfLoadOptions = {}): ServerConf {
    return parseConf(text, path ?? '<yaml>', opts);
  }
}

function parseConf(text: string, file: string, opts: ConfLoadOptions): ServerConf {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const issues: string[] = [];
  const at = (offset: number | undefined) =>
    offset === undefined ? file : `${file}:${lines.linePos(offset).line}`;
  // The yaml library's messages can span lines (with a code excerpt): keep the first.
  for (const e of doc.errors) issues.push(`${at(e.pos[0])}: invalid YAML: ${e.message.split('\n')[0]}`);
  // Pingora's serde default: a file without `version` is version 0.
  const conf = new ServerConf({ version: 0 });
  const fields = conf as unknown as Record<string, unknown>;
  const root = doc.contents;
  if (issues.length === 0 && root !== null && !(isScalar(root) && root.value === null)) {
    if (!isMap(root)) {
      issues.push(`${at(root.range?.[0])}: the top level must be a mapping of keys`);
    } else {
      for (const pair of root.items) {
        const keyNode = pair.key as Node | null;
        const key = isScalar(keyNode) ? keyNode.value : undefined;
        const where = at(keyNode?.range?.[0]);
        if (typeof key !== 'string') {
          issues.push(`${where}: keys must be strings`);
          continue;
        }
        const valueNode = pair.value as Node | null;
        const value: unknown = valueNode === null ? null : valueNode.toJS(doc);
        const spec = FIELDS.get(key);
        if (spec === undefined) {
          if (opts.allowUnknownKeys === true || opts.extraKeys?.includes(key) === true) {
            conf.extra[key] = value;
          } else {
            const hint = suggestKey(key);
            const tail = hint === undefined ? '' : ` (did you mean "${hint}"?)`;
            issues.push(`${where}: ${key}: unknown key${tail}`);
          }
          continue;
        }
        const checked = checkValue(spec.kind, value);
        if ('issues' in checked) {
          for (const issue of checked.issues) {
            const item =
              issue.index !== undefined && isSeq(valueNode) ? valueNode.items[issue.index] : undefined;
            const line = (item as Node | undefined)?.range?.[0] ?? keyNode?.range?.[0];
            issues.push(`${at(line)}: ${key}${issue.path}: ${issue.message}`);
          }
        } else if (checked.value !== undefined) {
          fields[spec.prop] = checked.value;
        }
      }
    }
  }
  // The first problem only, as nginx does: one line a person can act on, then run again.
  if (issues.length > 0) throw lineError(ErrorType.InternalError, issues[0]!);
  return conf;
}
