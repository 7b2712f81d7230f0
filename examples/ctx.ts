/**
 * Per-request context (Pingora's ctx.rs): `requestFilter` marks beta users in the request's
 * `Ctx`, `upstreamPeer` reads it to pick the beta origin; a counter shared by every request
 * lives in the proxy object.
 *
 *   pnpm --filter @pingora-ts/examples ctx     # curl -H 'beta-flag: 1' 127.0.0.1:6190
 */
import { HttpPeer, Server } from '@pingora-ts/core';
import { httpProxyService, type ProxyHttp } from '@pingora-ts/proxy';
import { isMain, startDemoOrigin } from './lib/demo-origins.js';
import { type Running, startServices } from './lib/run.js';

interface Ctx {
  betaUser: boolean;
}

/** Routes requests with a `beta-flag` header to `beta`, the rest to `main`. */
export class BetaRouter implements ProxyHttp<Ctx> {
  /** Requests seen by this proxy (shared state lives on the proxy, not in the Ctx). */
  requests = 0;
  constructor(
    private readonly mainOrigin: string,
    private readonly betaOrigin: string,
  ) {}

  newCtx(): Ctx {
    return { betaUser: false };
  }

  requestFilter(session: import('@pingora-ts/proxy').Session, ctx: Ctx): boolean {
    this.requests++;
    ctx.betaUser = session.getHeader('beta-flag') !== undefined;
    return false;
  }

  upstreamPeer(_session: unknown, ctx: Ctx): HttpPeer {
    return new HttpPeer(ctx.betaUser ? this.betaOrigin : this.mainOrigin, false, '');
  }
}

export async function main(
  port: number,
  mainOrigin: string,
  betaOrigin: string,
): Promise<Running & { router: BetaRouter }> {
  const router = new BetaRouter(mainOrigin, betaOrigin);
  const service = httpProxyService(new Server(null).configuration, router);
  service.addTcp(`127.0.0.1:${port}`);
  return { ...(await startServices([service])), router };
}

if (isMain(import.meta.url)) {
  const [a, b] = await Promise.all([startDemoOrigin('stable'), startDemoOrigin('beta')]);
  await main(6190, a!.addr, b!.addr);
  console.log('ctx example on :6190 — curl 127.0.0.1:6190 ; curl -H "beta-flag: 1" 127.0.0.1:6190');
}
