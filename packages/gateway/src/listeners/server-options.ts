/**
 * The downstream HTTP settings of the gateway's listeners. `HttpServerOptions` belong to a
 * service (one `HttpServer` serves all of its listeners), so listeners with different settings
 * go to different proxy services, and listeners that agree share one.
 */
import type { HttpServerOptions } from '@pingora-ts/core';
import type { GatewayConfig, Listener } from '../schema/index.js';

/** node's default `headersTimeout`, which a shorter `request_timeout` must not be below. */
const DEFAULT_HEADERS_TIMEOUT_MS = 60_000;

/** A listener written as a bare address, with the schema's defaults. */
export function listenerOf(entry: GatewayConfig['listeners'][number]): Listener {
  return typeof entry === 'string' ? { address: entry, h2c: false } : entry;
}

/**
 * The server options of one listener:
 *
 * - `keepalive_timeout`, `headers_timeout`, `request_timeout`, `lingering_timeout`,
 *   `lingering_time` in ms (0 disables a timeout),
 *   `max_header_size` in bytes, `keepalive_request_limit`, `h2c`.
 * - A `request_timeout` below the headers timeout lowers the headers timeout to it (a request
 *   cannot outlive its own head's deadline).
 *
 * Keys the listener does not set are left out, so the server's defaults apply.
 *
 * @example
 * ```ts
 * listenerServerOptions(listenerOf({ address: ':8080', request_timeout: 5000, h2c: false }));
 * // { requestTimeout: 5000, headersTimeout: 5000 }
 * ```
 */
export function listenerServerOptions(l: Listener): HttpServerOptions {
  const options: HttpServerOptions = {};
  if (l.keepalive_timeout !== undefined) options.keepaliveTimeout = l.keepalive_timeout;
  if (l.headers_timeout !== undefined) options.headersTimeout = l.headers_timeout;
  const request = l.request_timeout;
  if (request !== undefined) {
    options.requestTimeout = request;
    const headers = options.headersTimeout ?? DEFAULT_HEADERS_TIMEOUT_MS;
    if (request > 0 && (headers === 0 || request < headers)) options.headersTimeout = request;
  }
  if (l.lingering_timeout !== undefined) options.lingeringTimeout = l.lingering_timeout;
  if (l.lingering_time !== undefined) options.lingeringTime = l.lingering_time;
  if (l.max_header_size !== undefined) options.maxHeaderSize = l.max_header_size;
  if (l.keepalive_request_limit !== undefined) options.keepaliveRequestLimit = l.keepalive_request_limit;
  if (l.h2c) options.h2c = true;
  return options;
}

/** Listeners that share their HTTP settings, so one proxy service carries them all. */
export interface ListenerGroup {
  /** The settings every listener of the group has. */
  readonly serverOptions: HttpServerOptions;
  /** Indexes into `config.listeners`, in file order. */
  readonly listeners: readonly number[];
}

/**
 * Groups the listeners of `config` by their {@link listenerServerOptions}: one group (so one
 * proxy service) per distinct set of settings, in the order each set first appears. A file whose
 * listeners agree, the common case, gets one group; each listener keeps exactly its own limits.
 *
 * @example
 * ```ts
 * for (const group of listenerGroups(config)) {
 *   const service = httpProxyService(conf, proxy, { serverOptions: group.serverOptions });
 *   addListeners(service, config, ctx, group.listeners);
 * }
 * ```
 */
export function listenerGroups(config: GatewayConfig): ListenerGroup[] {
  const byKey = new Map<string, { serverOptions: HttpServerOptions; listeners: number[] }>();
  config.listeners.forEach((entry, i) => {
    const serverOptions = listenerServerOptions(listenerOf(entry));
    const key = JSON.stringify(serverOptions, Object.keys(serverOptions).sort());
    const group = byKey.get(key);
    if (group === undefined) byKey.set(key, { serverOptions, listeners: [i] });
    else group.listeners.push(i);
  });
  return [...byKey.values()];
}
