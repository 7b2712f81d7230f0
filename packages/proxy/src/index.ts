/**
 * @module @pingora-ts/proxy
 *
 * Pingora's programmable HTTP proxy. Implement {@link ProxyHttp} — only `upstreamPeer` is required
 * — and every phase of a request is a typed hook: `requestFilter` to answer early,
 * `upstreamRequestFilter` to rewrite what goes upstream, `responseFilter` and body filters to
 * rewrite what comes back, `failToConnect`/`errorWhileProxy` to decide retries, `logging` for
 * access logs (`accessLog` writes one line per request, with upstream timing). Bodies stream
 * with backpressure both ways; upgrades (WebSocket) become raw tunnels. Requests and upstream
 * attempts are published on `node:diagnostics_channel` ({@link PROXY_CHANNELS}) for tracing.
 *
 * @example
 * ```ts
 * import { Server, HttpPeer } from '@pingora-ts/core';
 * import { httpProxyService } from '@pingora-ts/proxy';
 *
 * const server = new Server();
 * server.bootstrap();
 * const service = httpProxyService(server.configuration, {
 *   upstreamPeer: () => new HttpPeer('127.0.0.1:3000', false, ''),
 * });
 * service.addTcp('0.0.0.0:6188');
 * server.addService(service);
 * await server.runForever();
 * ```
 */
export type {
  BodyFilterResult,
  FailToProxy,
  MaybePromise,
  ProxyHttp,
  UpstreamDigest,
} from './proxy-http.js';
export { HttpProxy } from './http-proxy.js';
export { httpProxyService } from './proxy-service.js';
export type { HttpProxyOptions } from './http-proxy.js';
export type { ProxyConf } from './proxy-service.js';
export { Session } from './session.js';
export type { UpstreamTiming } from './session.js';
export { accessLog, accessLogRecord, formatAccessLog } from './access-log.js';
export type { AccessLogRecord } from './access-log.js';
export { RETRY_BUFFER_LIMIT } from './request-body.js';
export { CLIENT_CLOSED_REQUEST, defaultFailToProxy, errorStatus } from './fail-to-proxy.js';
export { defaultErrorWhileProxy } from './fail-to-proxy.js';
export { TrustedProxies, clientIp, setForwardedHeaders } from './forwarded.js';
export type { ForwardedOptions } from './forwarded.js';
export { PROXY_CHANNELS, subscribeProxyDiagnostics } from './diagnostics.js';
export type {
  ProxyDiagnosticsHandlers,
  ProxyRequestEndMessage,
  ProxyRequestStartMessage,
  ProxyUpstreamConnectedMessage,
  ProxyUpstreamEndMessage,
  ProxyUpstreamErrorMessage,
  ProxyUpstreamHeadersMessage,
  ProxyUpstreamMessage,
  ProxyUpstreamRequestMessage,
  ProxyUpstreamStartMessage,
} from './diagnostics.js';
