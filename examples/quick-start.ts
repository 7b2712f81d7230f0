/**
 * Pingora's quick start: a proxy on :6188 in front of three origins, round robin, with
 * `upstreamRequestFilter` setting the Host the origins expect.
 *
 *   pnpm --filter @pingora-ts/examples quick-start     # then: curl 127.0.0.1:6188
 */
import { HttpPeer, Server } from '@pingora-ts/core';
import { httpProxyService, type ProxyHttp } from '@pingora-ts/proxy';
import { isMain, startDemoOrigin } from './lib/demo-origins.js';
import { type Running, startServices } from './lib/run.js';

/** Round robin over `upstreams` ("ip:port" strings). */
export function roundRobinProxy(upstreams: string[]): ProxyHttp {
  let next = 0;
  return {
    upstreamPeer() {
      const addr = upstreams[next++ % upstreams.length]!;
      return new HttpPeer(addr, false, '');
    },
    upstreamRequestFilter(_session, upstreamRequest) {
      upstreamRequest.insertHeader('Host', 'one.one.one.one');
    },
  };
}

/** Starts the proxy on `port` (0 = any) in front of `upstreams`. */
export async function main(port = 0, upstreams: string[]): Promise<Running> {
  const service = httpProxyService(new Server(null).configuration, roundRobinProxy(upstreams));
  service.addTcp(`127.0.0.1:${port}`);
  return startServices([service]);
}

if (isMain(import.meta.url)) {
  const origins = await Promise.all(['origin-a', 'origin-b', 'origin-c'].map((n) => startDemoOrigin(n)));
  const server = new Server(null);
  server.bootstrap();
  const proxy = httpProxyService(server.configuration, roundRobinProxy(origins.map((o) => o.addr)));
  proxy.addTcp('0.0.0.0:6188');
  server.addService(proxy);
  console.log('proxy on http://127.0.0.1:6188 — try: curl -i http://127.0.0.1:6188/');
  await server.runForever();
}
