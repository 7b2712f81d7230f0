/**
 * The downstream HTTP settings of the gateway's listeners. `HttpServerOptions` belong to a
 * service (one `HttpServer` serves all of its listeners), not to a listener, so the values of
 * several listeners are merged: each limit takes the strictest value any listener sets, and
 * `h2c` is on when any listener asks for it (it only changes what a connection starting with the
 * HTTP/2 preface gets: HTTP/2 instead of a 400).
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
 * The server options of the proxy service that carries every listener of `config`.
 *
 * - `keepalive_timeout`, `max_header_size`, `keepalive_request_limit`: the smallest value set.
 * - `headers_timeout`, `request_timeout`: the smallest non-zero value (0 disables, the loosest).
 *   A `request_timeout` below the headers timeout lowers the headers timeout to it (node refuses
 *   a request timeout shorter than the headers timeout).
 * - `h2c`: true when any listener sets it.
 *
 * Keys no listener sets are left out, so the server's defaults apply.
 *
 * @example
 * ```ts
 * const service = httpProxyService(conf, proxy, { serverOptions: httpServerOptions(config) });
 * ```
 */
export function httpServerOptions(config: GatewayConfig): HttpServerOptions {
  const listeners = config.listeners.map(listenerOf);
  const options: HttpServerOptions = {};
  const keepalive = smallest(listeners, (l) => l.keepalive_timeout, false);
  if (keepalive !== undefined) options.keepaliveTimeout = keepalive;
  const headers = smallest(listeners, (l) => l.headers_timeout, true);
  if (headers !== undefined) options.headersTimeout = headers;
  const request = smallest(listeners, (l) => l.request_timeout, true);
  if (request !== undefined) {
    options.requestTimeout = request;
    if (request < (options.headersTimeout ?? DEFAULT_HEADERS_TIMEOUT_MS)) options.headersTimeout = request;
  }
  const maxHeader = smallest(listeners, (l) => l.max_header_size, false);
  if (maxHeader !== undefined) options.maxHeaderSize = maxHeader;
  const requests = smallest(listeners, (l) => l.keepalive_request_limit, false);
  if (requests !== undefined) options.keepaliveRequestLimit = requests;
  if (listeners.some((l) => l.h2c)) options.h2c = true;
  return options;
}

function smallest(
  listeners: readonly Listener[],
  pick: (l: Listener) => number | undefined,
  zeroDisables: boolean,
): number | undefined {
  let min: number | undefined;
  let sawZero = false;
  for (const l of listeners) {
    const v = pick(l);
    if (v === undefined) continue;
    if (zeroDisables && v === 0) {
      sawZero = true;
      continue;
    }
    if (min === undefined || v < min) min = v;
  }
  return min ?? (sawZero ? 0 : undefined);
}
