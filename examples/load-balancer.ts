/**
 * Pingora's load_balancer.rs: round robin over three origins, a TCP health check every second
 * running as a background service of the Server, and `upstreamRequestFilter` setting the Host
 * the origins expect. A backend whose port stops answering is skipped after the next check. As in
 * Pingora, the proxy also listens with TLS and HTTP/2 (ALPN h2 + http/1.1) on :6189 — with the
 * repository's TEST-ONLY certificate for localhost (packages/tls-openssl/test/fixtures).
 *
 *   pnpm --filter @pingora-ts/examples load-balancer
 *   curl 127.0.0.1:6188 ; curl --http2 --cacert packages/tls-openssl/test/fixtures/ca.pem https://localhost:6189
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { backgroundService, HttpPeer, Server, type Service, TlsSettings } from '@pingora-ts/core';
import { ErrorType, PingoraError } from '@pingora-ts/error';
import { LoadBalancer, RoundRobin, TcpHealthCheck } from '@pingora-ts/load-balancing';
import { httpProxyService, type ProxyHttp } from '@pingora-ts/proxy';
import { isMain, startDemoOrigin } from './lib/demo-origins.js';
import { type Running, startServices } from './lib/run.js';
import { TEST_CERTS } from './sni-certs.js';

/** TLS settings of the :6189 listener: Mozilla intermediate, HTTP/2 offered first. */
export function tlsSettings(): TlsSettings {
  const pem = (name: string) => readFileSync(join(TEST_CERTS, name));
  return TlsSettings.fromPem(pem('localhost.pem'), pem('localhost.key')).enableH2();
}

function tlsPortOf(service: Service): number {
  const a = service.addresses()[1];
  return a?.kind === 'tcp' ? a.port : 0;
}

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

/**
 * Starts the health check and the proxy on `port` in front of `addrs`, plus the TLS + HTTP/2
 * listener on `tlsPort` (0 = any port).
 */
export async function main(
  port: number,
  addrs: string[],
  tlsPort = 0,
): Promise<Running & { upstreams: LoadBalancer<RoundRobin>; tlsPort: number }> {
  const background = backgroundService('health check', upstreams(addrs));
  const proxy = httpProxyService(new Server(null).configuration, lbProxy(background.task()));
  proxy.addTcp(`127.0.0.1:${port}`);
  proxy.addTlsWithSettings(`127.0.0.1:${tlsPort}`, undefined, tlsSettings());
  const running = await startServices([background, proxy]);
  return { ...running, upstreams: background.task(), tlsPort: tlsPortOf(proxy) };
}

if (isMain(import.meta.url)) {
  const origins = await Promise.all(['origin-a', 'origin-b', 'origin-c'].map((n) => startDemoOrigin(n)));
  const server = new Server(null);
  server.bootstrap();
  // Pingora's wiring: the background service owns the load balancer; the proxy shares it.
  const background = backgroundService('health check', upstreams(origins.map((o) => o.addr)));
  const proxy = httpProxyService(server.configuration, lbProxy(background.task()));
  proxy.addTcp('0.0.0.0:6188');
  proxy.addTlsWithSettings('0.0.0.0:6189', undefined, tlsSettings());
  server.addService(background);
  server.addService(proxy);
  console.log(
    'load balancer on http://127.0.0.1:6188 and https://localhost:6189 (h2) — try: curl -i http://127.0.0.1:6188/',
  );
  await server.runForever();
}
