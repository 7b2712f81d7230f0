/**
 * Pingora's load_balancer.rs: round robin over three origins, a TCP health check every second
 * running as a background service of the Server, and `upstreamRequestFilter` setting the Host
 * the origins expect. A backend whose port stops answering is skipped after the next check.
 *
 *   pnpm --filter @pingora-ts/examples load-balancer   # then: curl 127.0.0.1:6188
 */
import { backgroundService, HttpPeer, Server } from '@pingora-ts/core';
import { ErrorType, PingoraError } from '@pingora-ts/error';
import { LoadBalancer, RoundRobin, TcpHealthCheck } from '@pingora-ts/load-balancing';
import { httpProxyService, type ProxyHttp } from '@pingora-ts/proxy';
import { isMain, startDemoOrigin } from './lib/demo-origins.js';
import { type Running, startServices } from './lib/run.js';

/** The proxy logic: pick a healthy upstream, send the Host it expects. */
export function lbProxy(upstreams: LoadBalancer<RoundRobin>): ProxyHttp {
  return {
    upstreamPeer() {
      const upstream = upstreams.select('', 256); // the key is ignored by round robin
      if (upstream === undefined)
        throw PingoraError.explain(ErrorType.ConnectNoRoute, 'no healthy upstream').asUp();
      return new HttpPeer(upstream.address, false, '');
    },
    upstreamRequestFilter(_session, upstreamRequest) {
      upstreamRequest.insertHeader('Host', 'one.one.one.one');
    },
  };
}

/** Round robin over `addrs` with a TCP health check every `healthCheckFrequency` ms. */
export function upstreams(addrs: string[], healthCheckFrequency = 1_000): LoadBalancer<RoundRobin> {
  const lb = LoadBalancer.tryFromIter(RoundRobin, addrs);
  lb.setHealthCheck(TcpHealthCheck.new());
  lb.healthCheckFrequency = healthCheckFrequency;
  return lb;
}

/** Starts the health check and the proxy on `port` (0 = any) in front of `addrs`. */
export async function main(
  port: number,
  addrs: string[],
): Promise<Running & { upstreams: LoadBalancer<RoundRobin> }> {
  const background = backgroundService('health check', upstreams(addrs));
  const proxy = httpProxyService(new Server(null).configuration, lbProxy(background.task()));
  proxy.addTcp(`127.0.0.1:${port}`);
  return { ...(await startServices([background, proxy])), upstreams: background.task() };
}

if (isMain(import.meta.url)) {
  const origins = await Promise.all(['origin-a', 'origin-b', 'origin-c'].map((n) => startDemoOrigin(n)));
  const server = new Server(null);
  server.bootstrap();
  // Pingora's wiring: the background service owns the load balancer; the proxy shares it.
  const background = backgroundService('health check', upstreams(origins.map((o) => o.addr)));
  const proxy = httpProxyService(server.configuration, lbProxy(background.task()));
  proxy.addTcp('0.0.0.0:6188');
  server.addService(background);
  server.addService(proxy);
  console.log('load balancer on http://127.0.0.1:6188 — try: curl -i http://127.0.0.1:6188/');
  await server.runForever();
}
