/**
 * @module @pingora-ts/opentelemetry
 *
 * OpenTelemetry tracing for pingora-ts proxies. {@link instrumentProxy} subscribes to the proxy's
 * `node:diagnostics_channel` events and records a SERVER span per request and a CLIENT child span
 * per upstream attempt (retries included), with the OpenTelemetry HTTP semantic-convention
 * attributes; the incoming trace context is the parent and each attempt's context goes upstream
 * as `traceparent`. Through `@opentelemetry/api` only: nothing is recorded or propagated until the
 * application registers an SDK and a propagator, and a proxy nobody instruments pays nothing.
 *
 * @example
 * ```ts
 * import { propagation, trace } from '@opentelemetry/api';
 * import { W3CTraceContextPropagator } from '@opentelemetry/core';
 * import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
 * import { instrumentProxy } from '@pingora-ts/opentelemetry';
 *
 * trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter)] }));
 * propagation.setGlobalPropagator(new W3CTraceContextPropagator());
 * const stop = instrumentProxy();
 * ```
 */
export { instrumentProxy } from './instrument.js';
export type { InstrumentProxyOptions } from './instrument.js';
export { ATTR } from './attributes.js';
export { requestHeaderSetter, sessionHeaderGetter } from './carriers.js';
