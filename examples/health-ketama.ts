/**
 * Sticky routing that survives a dead origin: ketama consistent hashing (Pingora's
 * `KetamaHashing`, nginx's `hash $key consistent`) keyed by the `X-Shard-Key` header, or the
 * request path when there is none, with a TCP health check. The same key always reaches the same
 * origin, so each origin keeps a warm cache of its share of the keys. When an origin fails its
 * check, `select` walks the ring past it: only the keys it owned move, each to the next origin on
 * the ring, and every other key stays put. When it passes again, its keys come back.
 *
 *   pnpm --filter @pingora-ts/examples health-ketama
 *   curl 127.0.0.1:6199/user/1 ; curl -H 'X-Shard-Key: tenant-7' 127.0.0.1:6199/
 */
import { backgroundService, HttpPeer, Server } from '@pingora-ts/core';
import { ErrorType, PingoraError } from '@pingora-ts/error';
import { KetamaHashing, LoadBalancer, TcpHealthCheck } from '@pingora-ts/load-balancing';
import { httpProxyService, type ProxyHttp, type Session } from '@pingora-ts/proxy';
import { isMain, startDemoOrigin } from './lib/demo-origins.js';
import { type Running, startServices } from './lib/run.js';

/** The hashing key of a request: `X-Shard-Key` if sent, else the path without the query. */
export function shardKey(session: Session): string {
  const header = session.getHeader('x-shard-key');
  if (header !== undefined) return header;
  const uri = session.reqHeader().uri;
  const q = uri.indexOf('?');
  return q < 0 ? uri : uri.slice(0, q);
}

/**
 * The proxy logic: the first healthy origin on the ring for the request's key. 256 candidates is
 * Pingora's usual bound; with a few origins the walk ends after a handful of points.
 */
export function ketamaProxy(upstreams: LoadBalancer<KetamaHashing>): ProxyHttp {
  return {
    upstreamPeer(session) {
      const backend = upstreams.select(shardKey(session), 256);
      if (backend === undefined)
        throw PingoraError.explain(ErrorType.ConnectNoRoute, 'no healthy upstream').asUp();
      return new HttpPeer(backend.address, false, '');
    },
  };
}

/**
 * Ketama over `addrs`, TCP-checked every `healthCheckFrequency` ms.
 *
 * @example
 * ```ts
 * const lb = ketamaUpstreams(['10.0.0.1:80', '10.0.0.2:80', '10.0.0.3:80']);
 * const backend = lb.select('/user/1', 256); // the same path → the same backend while it is healthy
 * ```
 */
export function ketamaUpstreams(addrs: string[], healthCheckFrequency = 1_000): LoadBalancer<KetamaHashing> {
  const lb = LoadBalancer.tryFromIter(KetamaHashing, addrs);
  lb.setHealthCheck(TcpHealthCheck.new());
  lb.healthCheckFrequency = healthCheckFrequency;
  return lb;
}

/** Starts the health check and the proxy on `port` (0 = any) in front of `addrs`. */
export async function main(
  port: number,
  addrs: string[],
  healthCheckFrequency = 1_000,
): Promise<Running & { upstreams: LoadBalancer<KetamaHashing> }> {
  const background = backgroundService('health check', ketamaUpstreams(addrs, healthCheckFrequency));
  const proxy = httpProxyService(new Server(null).configuration, ketamaProxy(background.task()));
  proxy.addTcp(`127.0.0.1:${port}`);
  // The proxy's port first: `ports[0]` is what clients use.
  const running = await startServices([proxy, background]);
  return { ...running, upstreams: background.task() };
}

if (isMain(import.meta.url)) {
  const origins = await Promise.all(['shard-a', 'shard-b', 'shard-c'].map((n) => startDemoOrigin(n)));
  const server = new Server(null);
  server.bootstrap();
  // The background service owns the load balancer and its health checks; the proxy shares it.
  const background = backgroundService('health check', ketamaUpstreams(origins.map((o) => o.addr)));
  const proxy = httpProxyService(server.configuration, ketamaProxy(background.task()));
  proxy.addTcp('0.0.0.0:6199');
  server.addService(background);
  server.addService(proxy);
  console.log(
    'ketama proxy on http://127.0.0.1:6199 — try: curl 127.0.0.1:6199/user/1 (same path, same shard)',
  );
  await server.runForever();
}
