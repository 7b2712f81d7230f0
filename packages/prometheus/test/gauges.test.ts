/**
 * Gauges read on scrape: open downstream connections, upstream pool sizes (HTTP/1.1 and HTTP/2)
 * and a load balancer's backends, each seen through a real scrape of the metrics service.
 */
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { HttpPeer, ShutdownController } from '@pingora-ts/core';
import { closeAll, deadPort, onClose, request, startService, waitFor } from '@pingora-ts/test-utils';
import { Registry } from 'prom-client';
import { afterEach, expect, it } from 'vitest';
import { LoadBalancer, RoundRobin, TcpHealthCheck } from '@pingora-ts/load-balancing';
import { prometheusHttpService, registerLoadBalancerMetrics, registerServiceMetrics } from '../src/index.js';
import { startMetrics, startOrigin, startProxyService } from './helpers.js';
import { scrape } from './scrape.js';

afterEach(closeAll);

/** The value of the series `line` (name and labels exactly as exposed), or undefined. */
async function sample(port: number, line: string): Promise<number | undefined> {
  const text = (await scrape(port)).body.toString();
  const hit = text.split('\n').find((l) => l.startsWith(`${line} `));
  return hit === undefined ? undefined : Number(hit.slice(line.length + 1));
}

const idleH1 = 'http_client_open_connections{http_connection_state="idle",network_protocol_version="1.1"}';
const idleH2 = 'http_client_open_connections{http_connection_state="idle",network_protocol_version="2"}';
const activeH2 = 'http_client_open_connections{http_connection_state="active",network_protocol_version="2"}';
const downstream = 'pingora_downstream_open_connections{service="test proxy"}';

it('reports open downstream connections and idle HTTP/1.1 upstream connections', async () => {
  const registry = new Registry();
  const origin = await startOrigin((_req, res) => res.end('ok'));
  const { service, url } = await startProxyService({ upstreamPeer: () => origin.peer() });
  const stop = registerServiceMetrics(service, { registry });
  const port = await startMetrics(registry);

  expect(await sample(port, downstream)).toBe(0);
  expect(await sample(port, idleH1)).toBe(0);

  // One kept-alive client connection: after its request the proxy holds it open and has pooled
  // its upstream connection.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  onClose(() => agent.destroy());
  const res = await new Promise<http.IncomingMessage>((resolve, reject) =>
    http.get(url('/'), { agent }, resolve).on('error', reject),
  );
  res.resume();
  await new Promise((r) => res.on('end', r));
  await waitFor(async () => (await sample(port, idleH1)) === 1, {
    message: 'the upstream connection pooled',
  });
  expect(await sample(port, downstream)).toBe(1);
  expect(await sample(port, idleH2)).toBe(0);

  agent.destroy();
  await waitFor(async () => (await sample(port, downstream)) === 0, {
    message: 'the client connection closed',
  });

  // Unregistered: the series are gone, not frozen at their last value.
  stop();
  expect(await sample(port, downstream)).toBeUndefined();
  expect(await sample(port, idleH1)).toBeUndefined();
});

it('reports a service that is not a proxy by its connections alone', async () => {
  const registry = new Registry();
  const service = prometheusHttpService({ registry });
  service.addTcp('127.0.0.1:0');
  registerServiceMetrics(service, { registry });
  const port = await startService(service, new ShutdownController());
  // The scrape's own connection is open while the gauge is read.
  expect(await sample(port, 'pingora_downstream_open_connections{service="Prometheus metric HTTP"}')).toBe(1);
  expect(await sample(port, idleH1)).toBeUndefined();
});

it('reports HTTP/2 upstream connections as active while a stream is open, then idle', async () => {
  const registry = new Registry();
  let release: (() => void) | undefined;
  const h2 = http2.createServer((_req, res) => {
    if (_req.url === '/slow') release = () => res.end('slow');
    else res.end('ok');
  });
  await new Promise<void>((r) => h2.listen(0, '127.0.0.1', r));
  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on('session', (s) => sessions.add(s));
  onClose(
    () =>
      new Promise<void>((r) => {
        for (const s of sessions) s.destroy();
        h2.close(() => r());
      }),
  );
  const h2Port = (h2.address() as AddressInfo).port;
  const { service, url } = await startProxyService({
    upstreamPeer: () => {
      const peer = new HttpPeer(`127.0.0.1:${h2Port}`, false, '');
      peer.options.alpn = 'h2';
      return peer;
    },
  });
  registerServiceMetrics(service, { registry });
  const port = await startMetrics(registry);

  const slow = request(url('/slow'));
  await waitFor(() => release !== undefined, { message: 'the slow request reached the origin' });
  expect(await sample(port, activeH2)).toBe(1);
  expect(await sample(port, idleH2)).toBe(0);
  release!();
  expect((await slow).body).toBe('slow');
  await waitFor(async () => (await sample(port, idleH2)) === 1, { message: 'the HTTP/2 connection idle' });
  expect(await sample(port, activeH2)).toBe(0);
  expect(await sample(port, idleH1)).toBe(0);
});

it("reports a load balancer's backend health and in-flight leases", async () => {
  const registry = new Registry();
  const origin = await startOrigin((_req, res) => res.end('ok'));
  const dead = await deadPort();
  const up = `127.0.0.1:${origin.port}`;
  const down = `127.0.0.1:${dead}`;
  const lb = LoadBalancer.tryFromIter(RoundRobin, [up, down]);
  lb.setHealthCheck(TcpHealthCheck.new());
  registerLoadBalancerMetrics(lb, { upstream: 'origin', registry });
  const port = await startMetrics(registry);
  const healthy = (b: string) => `pingora_upstream_backend_healthy{upstream="origin",backend="${b}"}`;
  const inflight = (b: string) =>
    `pingora_upstream_backend_inflight_requests{upstream="origin",backend="${b}"}`;

  // Discovered backends start healthy (Pingora's rule) until a check says otherwise.
  expect(await sample(port, healthy(down))).toBe(1);
  await lb.backends().runHealthCheck(true);
  expect(await sample(port, healthy(up))).toBe(1);
  expect(await sample(port, healthy(down))).toBe(0);

  const lease = lb.acquire('', 16);
  expect(lease?.backend.addr).toBe(up);
  expect(await sample(port, inflight(up))).toBe(1);
  expect(await sample(port, inflight(down))).toBe(0);
  lease!.release();
  expect(await sample(port, inflight(up))).toBe(0);

  // Taken out of rotation by hand: not healthy for metrics either.
  lb.backends().setEnable(
    lb
      .backends()
      .getBackends()
      .find((b) => b.addr === up)!,
    false,
  );
  expect(await sample(port, healthy(up))).toBe(0);
  expect(() => registerLoadBalancerMetrics(lb, { upstream: '', registry })).toThrow(/upstream/);
});
