/**
 * @module pingora-ts/opentelemetry
 *
 * Everything from `@pingora-ts/opentelemetry`: OpenTelemetry tracing for pingora-ts: the proxy's diagnostics_channel events as spans, with W3C traceparent propagation upstream.
 * Generated from members.json by `pnpm gen:meta`; do not edit.
 */
export * from '@pingora-ts/opentelemetry';
