/**
 * Fixtures: a real origin, a real proxy service and a real metrics service, all on 127.0.0.1
 * port 0 and closed by `closeAll()` after each test.
 */
import type http from 'node:http';
import { HttpPeer, HttpServer, Service, ShutdownController } from '@pingora-ts/core';
import { HttpProxy, type ProxyHttp } from '@pingora-ts/proxy';
import { memoryLogger, startService, startOrigin as startTestOrigin } from '@pingora-ts/test-utils';
import type { Registry } from 'prom-client';
import { type PrometheusHttpServiceOptions, prometheusHttpService } from '../src/index.js';

/** An origin answering with `handler`; `peer()` addresses it. */
export async function startOrigin(
  handler: http.RequestListener,
): Promise<{ port: number; peer(): HttpPeer }> {
  const origin = await startTestOrigin(handler);
  return { port: origin.port, peer: () => new HttpPeer(`127.0.0.1:${origin.port}`, false, '') };
}

/** A proxy service running `inner`; resolves with its URL maker. */
export async function startProxy<Ctx>(inner: ProxyHttp<Ctx>): Promise<(path?: string) => string> {
  return (await startProxyService(inner)).url;
}

/** A proxy service running `inner`; resolves with the service, its port and its URL maker. */
export async function startProxyService<Ctx>(inner: ProxyHttp<Ctx>): Promise<{
  service: Service<HttpServer>;
  port: number;
  url: (path?: string) => string;
}> {
  const logger = memoryLogger();
  const service = new Service('test proxy', new HttpServer(new HttpProxy(inner, { logger })), { logger });
  service.addTcp('127.0.0.1:0');
  const port = await startService(service, new ShutdownController());
  return { service, port, url: (path = '/') => `http://127.0.0.1:${port}${path}` };
}

/** The metrics service for `registry`; resolves with its port. */
export function startMetrics(
  registry: Registry,
  options: PrometheusHttpServiceOptions = {},
): Promise<number> {
  const service = prometheusHttpService({ ...options, registry });
  service.addTcp('127.0.0.1:0');
  return startService(service, new ShutdownController());
}
