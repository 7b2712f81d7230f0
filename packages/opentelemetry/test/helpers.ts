/**
 * Fixtures: a real origin and a real proxy service on 127.0.0.1 port 0 (closed by `closeAll()`
 * after each test), and an OpenTelemetry SDK provider that keeps finished spans in memory.
 */
import type http from 'node:http';
import { HttpPeer, HttpServer, Service, ShutdownController } from '@pingora-ts/core';
import { HttpProxy, type ProxyHttp } from '@pingora-ts/proxy';
import { memoryLogger, startService, startOrigin as startTestOrigin } from '@pingora-ts/test-utils';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';

export { closeAll, deadPort, request, waitFor } from '@pingora-ts/test-utils';

/** An origin answering with `handler`; `peer()` addresses it. */
export async function startOrigin(
  handler: http.RequestListener,
): Promise<{ port: number; peer(): HttpPeer }> {
  const origin = await startTestOrigin(handler);
  return { port: origin.port, peer: () => new HttpPeer(`127.0.0.1:${origin.port}`, false, '') };
}

/** A proxy service running `inner`; resolves with its URL maker. */
export async function startProxy<Ctx>(inner: ProxyHttp<Ctx>): Promise<(path?: string) => string> {
  const logger = memoryLogger();
  const service = new Service('test proxy', new HttpServer(new HttpProxy(inner, { logger })), { logger });
  service.addTcp('127.0.0.1:0');
  const port = await startService(service, new ShutdownController());
  return (path = '/') => `http://127.0.0.1:${port}${path}`;
}

/** A provider whose spans are exported, as they end, into `spans()`. */
export function memoryTracing(): { provider: BasicTracerProvider; spans(): ReadableSpan[] } {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  return { provider, spans: () => exporter.getFinishedSpans() };
}
