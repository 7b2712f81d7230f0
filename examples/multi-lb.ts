/**
 * Pingora's multi_lb.rs: two clusters, each a load balancer with its own health check, chosen by
 * path prefix: `/one/…` goes to cluster one, everything else to cluster two.
 *
 *   pnpm --filter @pingora-ts/examples multi-lb   # curl 127.0.0.1:6188/one/x ; curl 127.0.0.1:6188/x
 */
import { backgroundService, type GenBackgroundService, HttpPeer, Server } from '@pingora-ts/core';
import { ErrorType, PingoraError } from '@pingora-ts/error';
import { type BackendSelection, LoadBalancer, RoundRobin, TcpHealthCheck } from '@pingora-ts/load-balancing';
import { httpProxyService, type ProxyHttp } from '@pingora-ts/proxy';
import { isMain, startDemoOrigin } from './lib/demo-origins.js';
import { type Running, startServices } from './lib/run.js';

/** A health-checked round-robin cluster as a background service (Pingora's `build_cluster_service`). */
export function clusterService(addrs: string[]): GenBackgroundService<LoadBalancer<RoundRobin>> {
  const cluster = LoadBalancer.tryFromIter(RoundRobin, addrs);
  cluster.setHealthCheck(TcpHealthCheck.new());
  cluster.healthCheckFrequency = 1_000;
  return backgroundService('cluster health check', cluster);
}

/** Routes `/one/…` to `one`, the rest to `two`. */
export function router(one: LoadBalancer<BackendSelection>, two: LoadBalancer<BackendSelection>): ProxyHttp {
  return {
    upstreamPeer(session) {
      const cluster = session.reqHeader().uri.startsWith('/one/') ? one : two;
      const upstream = cluster.select('', 256);
      if (upstream === undefined)
        throw PingoraError.explain(ErrorType.ConnectNoRoute, 'no healthy upstream').asUp();
      return new HttpPeer(upstream.address, false, '');
    },
  };
}

/** Starts both clusters' health checks and the router on `port` (0 = any). */
export async function main(port: number, clusterOne: string[], clusterTwo: string[]): Promise<Running> {
  const one = clusterService(clusterOne);
  const two = clusterService(clusterTwo);
  const proxy = httpProxyService(new Server(null).configuration, router(one.task(), two.task()));
  proxy.addTcp(`127.0.0.1:${port}`);
  return startServices([one, two, proxy]);
}

if (isMain(import.meta.url)) {
  const names = ['one-a', 'one-b', 'two-a', 'two-b'];
  const [oneA, oneB, twoA, twoB] = await Promise.all(names.map((n) => startDemoOrigin(n)));
  const server = new Server(null);
  server.bootstrap();
  const one = clusterService([oneA!.addr, oneB!.addr]);
  const two = clusterService([twoA!.addr, twoB!.addr]);
  const proxy = httpProxyService(server.configuration, router(one.task(), two.task()));
  proxy.addTcp('0.0.0.0:6188');
  server.addServices([one, two, proxy]);
  console.log(
    'multi-lb on :6188 — curl 127.0.0.1:6188/one/x (cluster one) ; curl 127.0.0.1:6188/x (cluster two)',
  );
  await server.runForever();
}
