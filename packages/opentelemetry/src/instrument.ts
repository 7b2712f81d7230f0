/**
 * `instrumentProxy`: turns the proxy's diagnostics_channel events into OpenTelemetry spans — a
 * SERVER span per request, a CLIENT child per upstream attempt — and carries the trace upstream
 * in the attempt's request head. Requests are matched to their spans by the `Session` object
 * every message carries (no AsyncLocalStorage). Every span ends exactly once: at its own end
 * event, when a newer attempt or the request's end supersedes it, or when the disposer runs.
 */
import {
  type Context,
  diag,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapPropagator,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import {
  type ProxyDiagnosticsHandlers,
  type ProxyRequestEndMessage,
  type ProxyRequestStartMessage,
  type ProxyUpstreamConnectedMessage,
  type ProxyUpstreamErrorMessage,
  type ProxyUpstreamHeadersMessage,
  type ProxyUpstreamRequestMessage,
  type ProxyUpstreamStartMessage,
  type Session,
  subscribeProxyDiagnostics,
} from '@pingora-ts/proxy';
import { ATTR, clientAttributes, serverAttributes } from './attributes.js';
import { requestHeaderSetter, sessionHeaderGetter } from './carriers.js';

/** Options of {@link instrumentProxy}. */
export interface InstrumentProxyOptions {
  /** Where spans go. Default: the global provider (`trace.getTracerProvider()`), a no-op until an SDK registers one. */
  tracerProvider?: TracerProvider;
  /**
   * Reads the incoming trace context and writes it upstream. Default: the global propagator
   * (`propagation.*`), a no-op until one is registered (the SDK's default is W3C `traceparent`).
   */
  propagator?: TextMapPropagator;
  /** Write the attempt's trace context (`traceparent`) into each upstream request. Default `true`. */
  propagate?: boolean;
  /** Tracer name. Default `@pingora-ts/opentelemetry`. */
  tracerName?: string;
}

/** The spans of one request in flight. */
interface Tracked {
  readonly server: Span;
  /** Context holding the SERVER span: parent of every attempt's span. */
  readonly context: Context;
  client: Span | undefined;
  attempt: number;
}

// The global propagation API as a propagator: it reads the registered one on every call, so a
// propagator registered after instrumentProxy still applies.
const GLOBAL_PROPAGATOR: TextMapPropagator = {
  inject: (ctx, carrier, setter) => propagation.inject(ctx, carrier, setter),
  extract: (ctx, carrier, getter) => propagation.extract(ctx, carrier, getter),
  fields: () => propagation.fields(),
};

/**
 * Records every request the proxies of this process handle as OpenTelemetry spans, and returns a
 * function that stops it (spans still open are ended then). With `propagate` (the default) each
 * upstream request carries its attempt's trace context, replacing any the client sent.
 *
 * @example
 * ```ts
 * import { trace, propagation } from '@opentelemetry/api';
 * import { W3CTraceContextPropagator } from '@opentelemetry/core';
 * import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
 * import { instrumentProxy } from '@pingora-ts/opentelemetry';
 *
 * const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter)] });
 * trace.setGlobalTracerProvider(provider);
 * propagation.setGlobalPropagator(new W3CTraceContextPropagator());
 * const stop = instrumentProxy(); // before the server starts
 * // … on shutdown
 * stop();
 * ```
 */
export function instrumentProxy(options: InstrumentProxyOptions = {}): () => void {
  const provider = options.tracerProvider ?? trace.getTracerProvider();
  const tracer: Tracer = provider.getTracer(options.tracerName ?? '@pingora-ts/opentelemetry');
  const propagator = options.propagator ?? GLOBAL_PROPAGATOR;
  const propagate = options.propagate ?? true;
  const bySession = new WeakMap<Session, Tracked>();
  // The same requests, to end their spans if the disposer runs while they are in flight.
  const open = new Set<Tracked>();

  const handlers: ProxyDiagnosticsHandlers = {
    requestStart(m: ProxyRequestStartMessage) {
      const parent = propagator.extract(ROOT_CONTEXT, m.session, sessionHeaderGetter);
      const { name, attributes } = serverAttributes(m);
      const kind = m.background ? SpanKind.INTERNAL : SpanKind.SERVER;
      const server = tracer.startSpan(name, { kind, attributes, startTime: m.session.timing.start }, parent);
      const t: Tracked = { server, context: trace.setSpan(parent, server), client: undefined, attempt: 0 };
      bySession.set(m.session, t);
      open.add(t);
    },
    upstreamStart(m: ProxyUpstreamStartMessage) {
      const t = bySession.get(m.session);
      if (t === undefined) return;
      if (t.client !== undefined) endClient(t, 'the next attempt started first');
      const { name, attributes } = clientAttributes(m);
      t.client = tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes }, t.context);
      t.attempt = m.attempt;
    },
    upstreamConnected(m: ProxyUpstreamConnectedMessage) {
      const span = attemptSpan(m.session, m.attempt);
      if (span === undefined || !span.isRecording()) return;
      span.setAttribute(ATTR.protocolVersion, m.httpVersion === 2 ? '2' : '1.1');
      span.setAttribute(ATTR.upstreamReused, m.reused);
    },
    upstreamRequest(m: ProxyUpstreamRequestMessage) {
      const span = attemptSpan(m.session, m.attempt);
      if (span === undefined) return;
      // The upstream method differs for a cache fill (HEAD goes as GET).
      if (span.isRecording()) span.setAttribute(ATTR.method, m.request.method);
      if (propagate) {
        const t = bySession.get(m.session)!;
        propagator.inject(trace.setSpan(t.context, span), m.request, requestHeaderSetter);
      }
    },
    upstreamHeaders(m: ProxyUpstreamHeadersMessage) {
      const span = attemptSpan(m.session, m.attempt);
      if (span === undefined) return;
      span.setAttribute(ATTR.status, m.status);
      // A client span's 4xx and 5xx are errors (the server span's 4xx are not).
      if (m.status >= 400) {
        span.setAttribute(ATTR.errorType, String(m.status));
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
    },
    upstreamEnd(m) {
      const t = bySession.get(m.session);
      if (t === undefined || t.attempt !== m.attempt || t.client === undefined) return;
      t.client.end();
      t.client = undefined;
    },
    upstreamError(m: ProxyUpstreamErrorMessage) {
      const t = bySession.get(m.session);
      if (t === undefined || t.attempt !== m.attempt || t.client === undefined) return;
      const span = t.client;
      t.client = undefined;
      if (span.isRecording()) {
        span.recordException(m.error);
        span.setAttribute(ATTR.errorType, m.error.type.name);
        span.setStatus({ code: SpanStatusCode.ERROR, message: String(m.error.message) });
      }
      span.end();
    },
    requestEnd(m: ProxyRequestEndMessage) {
      const t = bySession.get(m.session);
      if (t === undefined) return;
      bySession.delete(m.session);
      open.delete(t);
      if (t.client !== undefined) endClient(t, 'the request ended first');
      endServer(t.server, m);
    },
  };

  function attemptSpan(session: Session, attempt: number): Span | undefined {
    const t = bySession.get(session);
    return t !== undefined && t.attempt === attempt ? t.client : undefined;
  }

  const stop = subscribeProxyDiagnostics(guarded(handlers));
  return () => {
    stop();
    for (const t of open) {
      if (t.client !== undefined) endClient(t, 'tracing stopped');
      t.server.setStatus({ code: SpanStatusCode.ERROR, message: 'tracing stopped before the request ended' });
      t.server.end();
    }
    open.clear();
  };
}

// An attempt span that got no end event of its own (the proxy failed around it).
function endClient(t: Tracked, why: string): void {
  const span = t.client!;
  t.client = undefined;
  span.setStatus({ code: SpanStatusCode.ERROR, message: why });
  span.end();
}

function endServer(span: Span, m: ProxyRequestEndMessage): void {
  const { status, error: text, aborted } = m.record;
  if (span.isRecording()) {
    if (status > 0) span.setAttribute(ATTR.status, status);
    if (m.error !== undefined) {
      span.recordException(m.error);
      span.setAttribute(ATTR.errorType, m.error.type.name);
    } else if (status >= 500) {
      span.setAttribute(ATTR.errorType, String(status));
    }
    // 5xx, a response cut short, or no complete answer at all (499: the client left) are errors;
    // a 4xx the proxy chose to send is not (the conventions' rule for server spans).
    if (status >= 500 || aborted || (m.error !== undefined && (status === 499 || status === 0))) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: text ?? `HTTP ${status}` });
    }
  }
  const end = m.session.timing.end;
  span.end(end > 0 ? end : undefined);
}

// A subscriber that throws would surface as an uncaught exception (diagnostics_channel rethrows
// it on the next tick): tracing must never take the proxy down, so failures go to OTel's diag log.
function guarded(handlers: ProxyDiagnosticsHandlers): ProxyDiagnosticsHandlers {
  const out: Record<string, (m: unknown) => void> = {};
  for (const [key, fn] of Object.entries(handlers) as Array<[string, (m: unknown) => void]>) {
    out[key] = (m) => {
      try {
        fn(m);
      } catch (e) {
        diag.error(`@pingora-ts/opentelemetry: ${key} handler failed`, e);
      }
    };
  }
  return out as ProxyDiagnosticsHandlers;
}
