/**
 * Rate limiting per application id (Pingora's rate_limiter.rs) with `@pingora-ts/limits`: each
 * `appid` may make `maxPerSecond` requests per second; the rest get 429 with X-Rate-Limit-*
 * headers, answered in `requestFilter` without touching the origin.
 *
 *   pnpm --filter @pingora-ts/examples rate-limiter   # for i in 1 2 3 4; do curl -s -o /dev/null -w '%{http_code}\n' -H 'appid: 1' 127.0.0.1:6194; done
 */
import { HttpPeer, Server } from '@pingora-ts/core';
import { ResponseHeader } from '@pingora-ts/http';
import { Rate } from '@pingora-ts/limits';
import { httpProxyService, type ProxyHttp, type Session } from '@pingora-ts/proxy';
import { isMain, startDemoOrigin } from './lib/demo-origins.js';
import { type Running, startServices } from './lib/run.js';

export function rateLimited(origin: string, maxPerSecond: number, rate = new Rate(1_000)): ProxyHttp {
  return {
    upstreamPeer: () => new HttpPeer(origin, false, ''),
    requestFilter(session: Session) {
      const appid = session.getHeader('appid');
      if (appid === undefined) return false; // no key, no limit
      const seen = rate.observe(appid, 1);
      if (seen <= maxPerSecond) return false;
      const resp = ResponseHeader.build(429);
      resp.insertHeader('X-Rate-Limit-Limit', maxPerSecond);
      resp.insertHeader('X-Rate-Limit-Remaining', '0');
      resp.insertHeader('X-Rate-Limit-Reset', '1');
      resp.insertHeader('Content-Length', '0');
      session.setKeepalive(undefined);
      session.writeResponseHeader(resp, true);
      return true;
    },
  };
}

export async function main(port: number, origin: string, maxPerSecond = 1, rate?: Rate): Promise<Running> {
  const service = httpProxyService(new Server(null).configuration, rateLimited(origin, maxPerSecond, rate));
  service.addTcp(`127.0.0.1:${port}`);
  return startServices([service]);
}

if (isMain(import.meta.url)) {
  const o = await startDemoOrigin('limited');
  await main(6194, o.addr, 1);
  console.log("rate limiter on :6194 — curl -H 'appid: 1' 127.0.0.1:6194 (1 request/s per appid)");
}
