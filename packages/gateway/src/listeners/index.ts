/**
 * The `listeners` section built: each address added to a proxy service (TCP, Unix socket, TLS
 * with SNI certificates and mTLS), listeners grouped by their HTTP settings (one service each).
 */
import type { HttpServer, Service } from '@pingora-ts/core';
import type { BuildContext } from '../runtime/contracts.js';
import type { GatewayConfig } from '../schema/index.js';
import { configError, resolveConfigPath } from '../upstreams/pem-file.js';
import { listenerOf } from './server-options.js';
import { listenerTlsSettings } from './tls.js';

export { type ListenerGroup, listenerGroups, listenerOf, listenerServerOptions } from './server-options.js';
export { listenerTlsSettings, SniCertificates } from './tls.js';

/**
 * Adds the listeners of `config` at `indexes` (default: every one) to `service`: `host:port` as TCP (with TLS when the listener
 * has `tls`), `unix:/path` or an absolute path as a Unix socket (mode 0666; a relative
 * `unix:` path starts at `ctx.baseDir`). Certificate files are read now.
 * @throws Error naming the key (`listeners[1].tls.cert: cannot read ./site.pem: no such file`)
 *   for an unreadable or unusable certificate, or TLS asked on a Unix socket.
 *
 * @example
 * ```ts
 * const [group] = listenerGroups(config);
 * const service = httpProxyService(server.configuration, proxy, { serverOptions: group.serverOptions });
 * addListeners(service, config, { baseDir: dirname(file), logger }, group.listeners);
 * ```
 */
export function addListeners(
  service: Service<HttpServer>,
  config: GatewayConfig,
  ctx: BuildContext,
  indexes: readonly number[] = config.listeners.map((_, i) => i),
): void {
  for (const i of indexes) {
    const entry = config.listeners[i];
    if (entry === undefined) throw new RangeError(`no listeners[${i}] in the file`);
    const l = listenerOf(entry);
    const keyPath = `listeners[${i}]`;
    const unix = unixPath(l.address);
    if (unix !== undefined) {
      if (l.tls !== undefined) throw configError(`${keyPath}.tls`, 'TLS is not available on a Unix socket');
      service.addUds(resolveConfigPath(ctx.baseDir, unix));
    } else if (l.tls !== undefined) {
      service.addTlsWithSettings(l.address, undefined, listenerTlsSettings(l.tls, `${keyPath}.tls`, ctx));
    } else {
      service.addTcp(l.address);
    }
  }
}

/** The socket path of a Unix address (`unix:/run/gw.sock`, `/run/gw.sock`), else undefined. */
export function unixPath(address: string): string | undefined {
  if (address.startsWith('unix:')) return address.slice(5);
  return address.startsWith('/') ? address : undefined;
}
