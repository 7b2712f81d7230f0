/**
 * instrumentProxy against a real proxy, a real origin and the OpenTelemetry SDK's in-memory
 * exporter: the SERVER and CLIENT spans, their parent/child links, `traceparent` upstream, the
 * incoming context as parent, retries, failures, a client that leaves, and the disposer.
 */
import http from 'node:http';
import { propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { HttpPeer } from '@pingora-ts/core';
import { afterEach, describe, expect, it } from 'vitest';
import {
  closeAll,
  deadPort,
  memoryTracing,
  request,
  startOrigin,
  startProxy,
  waitFor,
} from '../test/helpers.js';
import { instrumentProxy } from './index.js';

const stops: Array<() => void> = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) stop();
  trace.disable();
  propagation.disable();
  await closeAll();
});

const w3c = new W3CTraceContextPropagator();

/** Instruments with an SDK provider and W3C propagation; returns the recorded spans. */
function traced(options: { propagate?: boolean } = {}) {
  const t = memoryTracing();
  stops.push(instrumentProxy({ tracerProvider: t.provider, propagator: w3c, ...options }));
  return t;
}

/** An origin that answers `body` and remembers the `traceparent` of each request. */
async function tracingOrigin(body = 'ok') {
  const seen: Array<string | undefined> = [];
  const origin = await startOrigin((req, res) => {
    seen.push(req.headers.traceparent as string | undefined);
    res.end(body);
  });
  return { origin, seen };
}

const servers = (spans: ReadableSpan[]) => spans.filter((s) => s.kind === SpanKind.SERVER);
const clients = (spans: ReadableSpan[]) => spans.filter((s) => s.kind === SpanKind.CLIENT);
const serverDone = (spans: () => ReadableSpan[], n = 1) =>
  waitFor(() => servers(spans()).length >= n, { message: `${n} server span(s)` });
const parse = (tp: string | undefined) => {
  const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/.exec(tp ?? '');
  expect(m, `traceparent ${tp}`).not.toBeNull();
  return { traceId: m![1], parentId: m![2] };
};

describe('instrumentProxy', () => {
  it('records a SERVER span and a CLIENT child, and sends the child as traceparent', async () => {
    const { spans } = traced();
    const { origin, seen } = await tracingOrigin('hello');
    const url = await startProxy({ upstreamPeer: () => origin.peer() });
    const r = await request(url('/items?id=7'), {
      headers: { host: 'shop.test:8080', 'user-agent': 'ua/1' },
    });
    expect(r.body).toBe('hello');
    await serverDone(spans);
    const [server] = servers(spans());
    const [client] = clients(spans());
    expect(spans()).toHaveLength(2);
    expect(server!.name).toBe('GET');
    expect(server!.parentSpanContext).toBeUndefined();
    expect(server!.attributes).toMatchObject({
      'http.request.method': 'GET',
      'url.path': '/items',
      'url.query': 'id=7',
      'url.scheme': 'http',
      'server.address': 'shop.test',
      'server.port': 8080,
      'network.protocol.version': '1.1',
      'client.address': '127.0.0.1',
      'user_agent.original': 'ua/1',
      'http.response.status_code': 200,
    });
    expect(server!.status.code).toBe(SpanStatusCode.UNSET);
    expect(client!.parentSpanContext?.spanId).toBe(server!.spanContext().spanId);
    expect(client!.spanContext().traceId).toBe(server!.spanContext().traceId);
    expect(client!.attributes).toMatchObject({
      'http.request.method': 'GET',
      'server.address': '127.0.0.1',
      'server.port': origin.port,
      'http.response.status_code': 200,
      'network.protocol.version': '1.1',
      'pingora.upstream.reused': false,
    });
    expect(client!.attributes['http.request.resend_count']).toBeUndefined();
    const tp = parse(seen[0]);
    expect(tp.traceId).toBe(server!.spanContext().traceId);
    expect(tp.parentId).toBe(client!.spanContext().spanId);
  });

  it("an incoming traceparent is the SERVER span's parent and is replaced upstream", async () => {
    const { spans } = traced();
    const { origin, seen } = await tracingOrigin();
    const url = await startProxy({ upstreamPeer: () => origin.peer() });
    const incoming = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    await request(url('/'), { headers: { traceparent: incoming } });
    await serverDone(spans);
    const [server] = servers(spans());
    const [client] = clients(spans());
    expect(server!.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(server!.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
    expect(server!.parentSpanContext?.isRemote).toBe(true);
    const tp = parse(seen[0]);
    expect(tp.traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(tp.parentId).toBe(client!.spanContext().spanId);
  });

  it('a retry is a second CLIENT span with http.request.resend_count, both under the SERVER span', async () => {
    const { spans } = traced();
    const dead = await deadPort();
    const { origin, seen } = await tracingOrigin('second');
    const url = await startProxy<{ n: number }>({
      newCtx: () => ({ n: 0 }),
      upstreamPeer: (_s, ctx) =>
        ctx.n++ === 0 ? new HttpPeer(`127.0.0.1:${dead}`, false, '') : origin.peer(),
      failToConnect: (_s, _p, _c, e) => e.setRetry(true),
    });
    expect((await request(url('/'))).body).toBe('second');
    await serverDone(spans);
    const [server] = servers(spans());
    const [first, second] = clients(spans());
    expect(clients(spans())).toHaveLength(2);
    for (const c of [first!, second!]) expect(c.parentSpanContext?.spanId).toBe(server!.spanContext().spanId);
    expect(first!.attributes).toMatchObject({ 'server.port': dead, 'error.type': 'ConnectRefused' });
    expect(first!.status.code).toBe(SpanStatusCode.ERROR);
    expect(first!.events.some((e) => e.name === 'exception')).toBe(true);
    expect(second!.attributes).toMatchObject({ 'server.port': origin.port, 'http.request.resend_count': 1 });
    expect(second!.status.code).toBe(SpanStatusCode.UNSET);
    expect(server!.attributes['http.response.status_code']).toBe(200);
    expect(server!.status.code).toBe(SpanStatusCode.UNSET);
    expect(parse(seen[0]).parentId).toBe(second!.spanContext().spanId);
  });

  it('a connect failure: CLIENT and SERVER spans end in error, the SERVER one with 502', async () => {
    const { spans } = traced();
    const dead = await deadPort();
    const url = await startProxy({ upstreamPeer: () => new HttpPeer(`127.0.0.1:${dead}`, false, '') });
    expect((await request(url('/'))).status).toBe(502);
    await serverDone(spans);
    const [server] = servers(spans());
    const [client] = clients(spans());
    expect(spans()).toHaveLength(2);
    expect(client!.status.code).toBe(SpanStatusCode.ERROR);
    expect(client!.attributes['error.type']).toBe('ConnectRefused');
    expect(server!.status.code).toBe(SpanStatusCode.ERROR);
    expect(server!.attributes).toMatchObject({
      'http.response.status_code': 502,
      'error.type': 'ConnectRefused',
    });
  });

  it("an origin's 502: both spans carry the status and are errors", async () => {
    const { spans } = traced();
    const origin = await startOrigin((_req, res) => {
      res.statusCode = 502;
      res.end();
    });
    const url = await startProxy({ upstreamPeer: () => origin.peer() });
    expect((await request(url('/'))).status).toBe(502);
    await serverDone(spans);
    const [server] = servers(spans());
    const [client] = clients(spans());
    expect(client!.attributes).toMatchObject({ 'http.response.status_code': 502, 'error.type': '502' });
    expect(client!.status.code).toBe(SpanStatusCode.ERROR);
    expect(server!.attributes).toMatchObject({ 'http.response.status_code': 502, 'error.type': '502' });
    expect(server!.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('a client that leaves mid-body: each span ends once, in error, the SERVER one with 499', async () => {
    const { spans } = traced();
    const origin = await startOrigin((req, res) => {
      if (req.url !== '/slow') return void res.end('ok');
      res.writeHead(200, { 'content-length': '1000' });
      res.write('x'.repeat(100)); // and never the rest
    });
    const url = await startProxy({ upstreamPeer: () => origin.peer() });
    await new Promise<void>((resolve) => {
      const req = http.get(url('/slow'), { agent: false }, (res) => {
        res.once('data', () => req.destroy());
        res.on('error', () => {});
        res.on('close', () => resolve());
      });
      req.on('error', () => resolve());
    });
    await serverDone(spans);
    // One more request through the same proxy: a late duplicate end would be exported by now.
    await request(url('/'));
    await serverDone(spans, 2);
    const server = servers(spans()).find((s) => s.attributes['url.path'] === '/slow')!;
    const trace1 = spans().filter((s) => s.spanContext().traceId === server.spanContext().traceId);
    expect(servers(trace1)).toHaveLength(1);
    expect(clients(trace1)).toHaveLength(1);
    expect(server.attributes['http.response.status_code']).toBe(499);
    expect(server.status.code).toBe(SpanStatusCode.ERROR);
    expect(clients(trace1)[0]!.status.code).toBe(SpanStatusCode.ERROR);
    expect(clients(trace1)[0]!.attributes['error.type']).toBe('ConnectionClosed');
  });

  it('after the disposer runs, in-flight spans end once and nothing more is recorded or sent', async () => {
    const { spans } = traced();
    let release: (() => void) | undefined;
    const seen: Array<string | undefined> = [];
    const origin = await startOrigin((req, res) => {
      seen.push(req.headers.traceparent as string | undefined);
      if (req.url === '/held') release = () => res.end('late');
      else res.end('ok');
    });
    const url = await startProxy({ upstreamPeer: () => origin.peer() });
    const held = request(url('/held'));
    await waitFor(() => release !== undefined, { message: 'the held request at the origin' });
    expect(seen[0]).toBeDefined();
    for (const stop of stops.splice(0)) stop();
    expect(spans()).toHaveLength(2);
    expect(spans().every((s) => s.status.code === SpanStatusCode.ERROR)).toBe(true);
    release!();
    expect((await held).body).toBe('late');
    await request(url('/after'));
    expect(seen[1]).toBeUndefined();
    expect(spans()).toHaveLength(2);
  });

  it('propagate: false records spans but adds no header', async () => {
    const { spans } = traced({ propagate: false });
    const { origin, seen } = await tracingOrigin();
    const url = await startProxy({ upstreamPeer: () => origin.peer() });
    await request(url('/'));
    await serverDone(spans);
    expect(spans()).toHaveLength(2);
    expect(seen).toEqual([undefined]);
  });

  it('by default it follows the global API: nothing until an SDK and a propagator are registered', async () => {
    stops.push(instrumentProxy());
    const { origin, seen } = await tracingOrigin();
    const url = await startProxy({ upstreamPeer: () => origin.peer() });
    await request(url('/'));
    expect(seen).toEqual([undefined]);

    const t = memoryTracing();
    trace.setGlobalTracerProvider(t.provider);
    propagation.setGlobalPropagator(w3c);
    await request(url('/'));
    await serverDone(t.spans);
    const [server] = servers(t.spans());
    expect(parse(seen[1]).traceId).toBe(server!.spanContext().traceId);
    expect(clients(t.spans())).toHaveLength(1);
  });
});
