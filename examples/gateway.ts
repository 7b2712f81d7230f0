/**
 * An API gateway (Pingora's gateway.rs): `/login` without credentials gets 403 from
 * `requestFilter`; every response gets our Server header and loses alt-svc; `logging` counts
 * requests, served as a metric on a second port by a plain `ServeHttp` app.
 *
 *   pnpm --filter @pingora-ts/examples gateway   # curl 127.0.0.1:6191/login ; curl 127.0.0.1:6192
 */
import { HttpPeer, HttpServer, Server, Service, serveHttpApp } from '@pingora-ts/core';
import { httpProxyService, type ProxyHttp, type Session } from '@pingora-ts/proxy';
import { isMain, startDemoOrigin } from './lib/demo-origins.js';
import { type Running, startServices } from './lib/run.js';

/** Counts requests by final status. */
export class Metrics {
  readonly byStatus = new Map<number, number>();
  record(status: number): void {
    this.byStatus.set(status, (this.byStatus.get(status) ?? 0) + 1);
  }
  render(): string {
    let out = '# TYPE gateway_requests_total counter\n';
    for (const [s, n] of this.byStatus) out += `gateway_requests_total{status="${s}"} ${n}\n`;
    return out;
  }
}

export function gateway(origin: string, metrics: Metrics): ProxyHttp {
  return {
    requestFilter(session: Session) {
      if (session.reqHeader().uri.startsWith('/login') && session.getHeader('authorization') === undefined) {
        session.respondError(403);
        return true;
      }
      return false;
    },
    upstreamPeer: () => new HttpPeer(origin, false, ''),
    responseFilter(_session, resp) {
      resp.insertHeader('Server', 'MyGateway');
      resp.removeHeader('alt-svc');
    },
    logging(session) {
      metrics.record(session.responseWritten()?.status ?? session.errorStatus);
    },
  };
}

export async function main(
  port: number,
  metricsPort: number,
  origin: string,
): Promise<Running & { metrics: Metrics }> {
  const metrics = new Metrics();
  const proxy = httpProxyService(new Server(null).configuration, gateway(origin, metrics));
  proxy.addTcp(`127.0.0.1:${port}`);
  const prom = new Service(
    'Prometheus metric HTTP',
    new HttpServer(
      serveHttpApp({
        response: () => ({
          status: 200,
          headers: { 'Content-Type': 'text/plain; version=0.0.4' },
          body: metrics.render(),
        }),
      }),
    ),
  );
  prom.addTcp(`127.0.0.1:${metricsPort}`);
  return { ...(await startServices([proxy, prom])), metrics };
}

if (isMain(import.meta.url)) {
  const o = await startDemoOrigin('api');
  await main(6191, 6192, o.addr);
  console.log('gateway on :6191, metrics on :6192');
}
