/**
 * A third-party HTTP module (Pingora's use_module.rs): a Basic-auth ACL written as an
 * `HttpModule` and registered once in `initDownstreamModules`. Every request gets its own module
 * instance, which checks `Authorization` before `requestFilter` runs; a request without the right
 * credentials fails with 401 and never reaches the origin.
 *
 *   pnpm --filter @pingora-ts/examples use-module
 *   curl -i 127.0.0.1:6193 ; curl -i -u admin:testcode 127.0.0.1:6193 ; curl -i -u admin:wrong 127.0.0.1:6193
 */
import { timingSafeEqual } from 'node:crypto';
import { type HttpModule, type HttpModuleBuilder, HttpPeer, Server } from '@pingora-ts/core';
import { ErrorType, PingoraError } from '@pingora-ts/error';
import type { RequestHeader } from '@pingora-ts/http';
import { httpProxyService, type ProxyHttp } from '@pingora-ts/proxy';
import { isMain, startDemoOrigin } from './lib/demo-origins.js';
import { type Running, startServices } from './lib/run.js';

/** The per-request part of the ACL: compares the request's credentials with the expected ones. */
class BasicAuthCtx implements HttpModule {
  constructor(private readonly expected: Buffer) {}

  requestHeaderFilter(req: RequestHeader): void {
    const auth = req.headers.get('authorization');
    if (auth === undefined) {
      throw PingoraError.explain(ErrorType.HTTPStatus(401), 'Auth failed, no auth header');
    }
    const given = Buffer.from(auth);
    // Same length first: timingSafeEqual only compares equal lengths.
    if (given.length !== this.expected.length || !timingSafeEqual(given, this.expected)) {
      throw PingoraError.explain(ErrorType.HTTPStatus(401), 'Auth failed, credential mismatch');
    }
  }
}

/** The ACL as registered on the proxy: one per proxy, it makes a {@link BasicAuthCtx} per request. */
export class BasicAuth implements HttpModuleBuilder<BasicAuthCtx> {
  private readonly expected: Buffer;

  constructor(user: string, password: string) {
    this.expected = Buffer.from(`Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`);
  }

  init(): BasicAuthCtx {
    return new BasicAuthCtx(this.expected);
  }
}

/** The proxy: the ACL module guards every request to `origin`. */
export function protectedProxy(origin: string, user: string, password: string): ProxyHttp {
  return {
    // Called once, when the proxy is built. Defining it replaces the default registration
    // (response compression, disabled).
    initDownstreamModules(modules) {
      modules.addModule(new BasicAuth(user, password));
    },
    upstreamPeer: () => new HttpPeer(origin, false, ''),
    // A refused login is routine, not an error worth a log line.
    suppressErrorLog: (_session, _ctx, error) => error.type.status === 401,
  };
}

/** Starts the protected proxy on `port` in front of `origin`. */
export async function main(
  port: number,
  origin: string,
  user = 'admin',
  password = 'testcode',
): Promise<Running> {
  const proxy = httpProxyService(new Server(null).configuration, protectedProxy(origin, user, password));
  proxy.addTcp(`127.0.0.1:${port}`);
  return startServices([proxy]);
}

if (isMain(import.meta.url)) {
  const o = await startDemoOrigin('protected');
  await main(6193, o.addr);
  console.log('proxy with a Basic-auth module on :6193 — try: curl -i -u admin:testcode 127.0.0.1:6193');
}
