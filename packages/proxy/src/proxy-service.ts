/**
 * `httpProxyService`: an {@link HttpProxy} in a listening `Service`, with its upstream connector
 * built from the server configuration (the `ServerConf` keys the proxy reads).
 */
import { Connector, HttpServer, Service } from '@pingora-ts/core';
import { HttpProxy, type HttpProxyOptions } from './http-proxy.js';
import type { ProxyHttp } from './proxy-http.js';

/**
 * The subset of `ServerConf` the proxy reads: the retry cap, and for its upstream connector the
 * pool size, the source addresses (`client_bind_to_ipv4` / `_ipv6`) and the default upstream CA
 * (`ca_file`).
 */
export interface ProxyConf {
  maxRetries?: number;
  upstreamKeepalivePoolSize?: number;
  /** `client_bind_to_ipv4`: source addresses of upstream IPv4 connections (random pick). */
  clientBindToIpv4?: readonly string[];
  /** `client_bind_to_ipv6`: source addresses of upstream IPv6 connections (random pick). */
  clientBindToIpv6?: readonly string[];
  /** `ca_file`: CAs of TLS peers that set no `options.ca`; read when the service is built. */
  caFile?: string;
}

/**
 * Pingora's `http_proxy_service`: a listening `Service` named "Pingora HTTP Proxy Service" that
 * proxies with `inner`. Add listeners with `addTcp`/`addUds`, then `server.addService(service)`.
 * Unless `options.connector` is given, its connector follows `conf` (Pingora's
 * `ConnectorOptions::from_server_conf`): `upstream_keepalive_pool_size`, `client_bind_to_ipv4` /
 * `_ipv6` and `ca_file` (read now; an unreadable file throws a `FileReadError` naming it). A
 * `logger` in `options` is the service's too (its start and stop lines).
 *
 * @example
 * ```ts
 * const server = new Server();
 * server.bootstrap();
 * const proxy = httpProxyService(server.configuration, {
 *   upstreamPeer: () => new HttpPeer('127.0.0.1:3000', false, ''),
 * });
 * proxy.addTcp('0.0.0.0:6188');
 * server.addService(proxy);
 * await server.runForever();
 * ```
 */
export function httpProxyService<Ctx>(
  conf: ProxyConf,
  inner: ProxyHttp<Ctx>,
  options: HttpProxyOptions & { name?: string } = {},
): Service<HttpServer> {
  const proxy = new HttpProxy(inner, {
    maxRetries: conf.maxRetries,
    upstreamKeepalivePoolSize: conf.upstreamKeepalivePoolSize,
    ...options,
    connector:
      options.connector ??
      Connector.fromServerConf({
        upstreamKeepalivePoolSize: options.upstreamKeepalivePoolSize ?? conf.upstreamKeepalivePoolSize,
        clientBindToIpv4: conf.clientBindToIpv4,
        clientBindToIpv6: conf.clientBindToIpv6,
        caFile: conf.caFile,
      }),
  });
  // The service's lifecycle lines go where the proxy's go.
  const logger = options.logger === undefined ? undefined : { logger: options.logger };
  return new Service(options.name ?? 'Pingora HTTP Proxy Service', new HttpServer(proxy), logger);
}
