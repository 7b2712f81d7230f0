/**
 * `HttpProxy`: runs a `ProxyHttp` for every request a core HTTP service hands it — the phase
 * sequence, the retry loop and the error path, in Pingora's order (see the phase chart in the
 * README). `httpProxyService` wraps it in a listening `Service`.
 */
import {
  Connector,
  HttpServer,
  type HttpServerApp,
  type HttpServerOptions,
  type HttpServerSession,
  type HttpPeer,
  type Logger,
  Service,
  type ShutdownWatch,
  type UpstreamSession,
  defaultLogger,
} from '@pingora-ts/core';
import { ErrorType, isPingoraError, PingoraError } from '@pingora-ts/error';
import type { RequestHeader } from '@pingora-ts/http';
import { type AttemptDone, Exchange, type ExchangeOwner } from './exchange.js';
import { CLIENT_CLOSED_REQUEST, defaultFailToProxy } from './fail-to-proxy.js';
import { compilePhases, type Phases } from './phases.js';
import type { ProxyHttp, UpstreamDigest } from './proxy-http.js';
import { Session } from './session.js';

/** Settings of an {@link HttpProxy}. */
export interface HttpProxyOptions {
  /** Retry cap (Pingora's `max_retries`); the error's retry flag decides. Default 16. */
  maxRetries?: number;
  /** Downstream server options (keep-alive, timeouts, limits). */
  serverOptions?: HttpServerOptions;
  /** Upstream connector; default one sized by `upstreamKeepalivePoolSize`. */
  connector?: Connector;
  /** Pool size when the proxy builds its own connector. Default 128. */
  upstreamKeepalivePoolSize?: number;
  /** Logger; default the shared pino logger. */
  logger?: Logger;
  /**
   * Close an upgraded connection (WebSocket) after this many ms without a byte either way.
   * Default: none — WebSocket applications keep idle connections alive with pings, and a read
   * timeout that cuts quiet WebSockets is a known complaint about Pingora.
   */
  tunnelIdleTimeout?: number;
}

/** The subset of `ServerConf` the proxy reads. */
export interface ProxyConf {
  maxRetries?: number;
  upstreamKeepalivePoolSize?: number;
}

const KEEP_UPGRADE = { keepUpgrade: true } as const;
const KEEP_TE_TRAILERS = { keepTeTrailers: true } as const;

function isPromise<T>(v: unknown): v is Promise<T> {
  return v instanceof Promise;
}

function toError(e: unknown, context: string): PingoraError {
  return isPingoraError(e) ? e : PingoraError.because(ErrorType.InternalError, context, e).asIn();
}

/**
 * Pingora's `HttpProxy`: an `HttpServerApp` that proxies every request through `inner`'s phases.
 *
 * @example
 * ```ts
 * const proxy = new HttpProxy({ upstreamPeer: () => new HttpPeer('127.0.0.1:3000', false, '') });
 * const service = new Service('proxy', new HttpServer(proxy));
 * ```
 */
export class HttpProxy<Ctx = unknown> implements HttpServerApp, ExchangeOwner {
  readonly serverOptions: HttpServerOptions;
  readonly connector: Connector;
  readonly maxRetries: number;
  readonly logger: Logger;
  private readonly phases: Phases<Ctx>;
  readonly tunnelIdleTimeout: number | undefined;

  constructor(
    readonly inner: ProxyHttp<Ctx>,
    options: HttpProxyOptions = {},
  ) {
    this.phases = compilePhases(inner);
    this.maxRetries = options.maxRetries ?? 16;
    this.tunnelIdleTimeout = options.tunnelIdleTimeout;
    this.logger = options.logger ?? defaultLogger();
    this.serverOptions = { logger: this.logger, ...options.serverOptions };
    this.connector =
      options.connector ?? new Connector({ keepalivePoolSize: options.upstreamKeepalivePoolSize ?? 128 });
  }

  processNewHttp(downstream: HttpServerSession, shutdown: ShutdownWatch): Promise<void> {
    return this.handle(new Session(downstream, this.logger, shutdown));
  }

  /** @internal Gives an upstream connection back to the connector after an exchange. */
  releaseHttpSession(conn: UpstreamSession, peer: HttpPeer): void {
    this.connector.releaseHttpSession(conn, peer);
  }

  httpCleanup(): void {
    this.connector.close();
  }

  private async handle(session: Session): Promise<void> {
    const p = this.phases;
    let ctx = undefined as Ctx;
    let error: PingoraError | undefined;
    try {
      if (p.newCtx !== null) ctx = p.newCtx();
      if (p.earlyRequestFilter !== null) {
        const r = p.earlyRequestFilter(session, ctx);
        if (isPromise(r)) await r;
      }
      let answered = false;
      if (p.requestFilter !== null) {
        const r = p.requestFilter(session, ctx);
        answered = isPromise<boolean>(r) ? await r : r;
      }
      if (!answered && p.proxyUpstreamFilter !== null) {
        const r = p.proxyUpstreamFilter(session, ctx);
        const go = isPromise<boolean>(r) ? await r : r;
        if (!go) {
          answered = true;
          if (session.responseWritten() === undefined) session.respondError(502);
        }
      }
      // The retry loop (Pingora §2.5), inline: one async frame fewer per request.
      while (!answered && session.tries < this.maxRetries) {
        session.tries++;
        error = await this.proxyToUpstream(session, ctx);
        if (error === undefined || !error.retry()) break;
        if (session.responseWritten() !== undefined) {
          error.setRetry(false);
          break;
        }
        this.logger.warn(
          `Fail to proxy: ${error}, tries: ${session.tries}, retry: true, ${this.summary(session, ctx)}`,
        );
      }
    } catch (e) {
      error = toError(e, 'proxy phase failed');
    }
    if (error !== undefined) await this.handleError(session, ctx, error);
    if (p.logging !== null) {
      try {
        const r = p.logging(session, error, ctx);
        if (isPromise(r)) await r;
      } catch (e) {
        this.logger.error({ err: e }, 'logging phase failed');
      }
    }
  }

  /**
   * One attempt; resolves with the error that ended it, or `undefined` on success. Never rejects.
   * Written as promise-returning steps rather than one async function so that the common path (a
   * synchronous `upstreamPeer`, a pooled connection, no request phases) allocates one promise.
   */
  private proxyToUpstream(session: Session, ctx: Ctx): Promise<PingoraError | undefined> {
    let r: HttpPeer | Promise<HttpPeer>;
    try {
      r = this.phases.upstreamPeer(session, ctx);
    } catch (e) {
      return Promise.resolve(toError(e, 'upstreamPeer failed'));
    }
    if (isPromise<HttpPeer>(r)) {
      return r.then(
        (peer) => this.withPeer(session, ctx, peer),
        (e: unknown) => toError(e, 'upstreamPeer failed'),
      );
    }
    return this.withPeer(session, ctx, r);
  }

  private withPeer(session: Session, ctx: Ctx, peer: HttpPeer): Promise<PingoraError | undefined> {
    session.upstreamPeer = peer;
    const conn = this.connector.reusedHttpSession(peer);
    if (conn === undefined) return this.connectThenSend(session, ctx, peer);
    return this.send(session, ctx, peer, conn, true);
  }

  private async connectThenSend(
    session: Session,
    ctx: Ctx,
    peer: HttpPeer,
  ): Promise<PingoraError | undefined> {
    let conn: UpstreamSession;
    try {
      conn = await this.connector.newHttpSession(peer);
    } catch (e) {
      const p = this.phases;
      let err = toError(e, 'connect failed');
      if (p.failToConnect !== null) err = p.failToConnect(session, peer, ctx, err);
      return err;
    }
    return this.send(session, ctx, peer, conn, false);
  }

  private send(
    session: Session,
    ctx: Ctx,
    peer: HttpPeer,
    conn: UpstreamSession,
    reused: boolean,
  ): Promise<PingoraError | undefined> {
    session.upstreamReused = reused;
    const p = this.phases;
    if (p.connectedToUpstream !== null || p.upstreamRequestFilter !== null) {
      return this.sendAfterPhases(session, ctx, peer, conn, reused);
    }
    return this.exchange(session, ctx, peer, conn, reused, undefined);
  }

  private async sendAfterPhases(
    session: Session,
    ctx: Ctx,
    peer: HttpPeer,
    conn: UpstreamSession,
    reused: boolean,
  ): Promise<PingoraError | undefined> {
    const p = this.phases;
    let up: RequestHeader;
    try {
      if (p.connectedToUpstream !== null) {
        const r = p.connectedToUpstream(session, reused, peer, digestOf(conn, reused), ctx);
        if (isPromise(r)) await r;
      }
      up = this.upstreamRequest(session, conn);
      if (p.upstreamRequestFilter !== null) {
        const r = p.upstreamRequestFilter(session, up, ctx);
        if (isPromise(r)) await r;
      }
    } catch (e) {
      conn.destroy();
      return toError(e, 'upstream request phase failed');
    }
    return this.exchange(session, ctx, peer, conn, reused, up);
  }

  // A copy of the client's request for the upstream: hop-by-hop fields and Expect removed.
  private upstreamRequest(session: Session, conn: UpstreamSession): RequestHeader {
    const up = session.reqHeader().clone();
    const upgrade = session.isUpgradeReq();
    // HTTP/2 upstreams get `te: trailers` (gRPC needs it); HTTP/2 forbids every other TE.
    up.stripHopByHop(upgrade ? KEEP_UPGRADE : conn.httpVersion === 2 ? KEEP_TE_TRAILERS : undefined);
    up.removeHeader('Expect');
    return up;
  }

  private exchange(
    session: Session,
    ctx: Ctx,
    peer: HttpPeer,
    conn: UpstreamSession,
    reused: boolean,
    prepared: RequestHeader | undefined,
  ): Promise<PingoraError | undefined> {
    const p = this.phases;
    return new Promise<PingoraError | undefined>((resolve: AttemptDone) => {
      try {
        const up = prepared ?? this.upstreamRequest(session, conn);
        new Exchange(p, session, ctx, conn, peer, reused, this, resolve).start(
          up,
          this.bodyMode(session, up),
        );
      } catch (e) {
        conn.destroy();
        resolve(toError(e, 'upstream request phase failed'));
      }
    });
  }

  // How the upstream request body is framed. A body that a filter may rewrite, or that was partly
  // consumed, cannot keep its Content-Length: it is streamed (chunked on HTTP/1.1).
  private bodyMode(session: Session, up: RequestHeader): 'none' | 'length' | 'stream' {
    if (!session.downstream.hasRequestBody || session.isUpgradeReq()) return 'none';
    const keepLength =
      this.phases.requestBodyFilter === null &&
      !session.body.consumed &&
      up.headers.get('content-length') !== undefined;
    return keepLength ? 'length' : 'stream';
  }

  private async handleError(session: Session, ctx: Ctx, error: PingoraError): Promise<void> {
    const p = this.phases;
    let code = 0;
    try {
      if (p.failToProxy !== null) {
        session.setKeepalive(undefined);
        const r = p.failToProxy(session, error, ctx);
        code = (isPromise(r) ? await r : r).errorCode;
      } else {
        code = defaultFailToProxy(session, error).errorCode;
      }
    } catch (e) {
      this.logger.error({ err: e }, 'failToProxy phase failed');
      if (session.responseWritten() === undefined) session.respondError(500);
      code = 500;
    }
    session.errorStatus = code === 0 ? CLIENT_CLOSED_REQUEST : code;
    if (p.suppressErrorLog?.(session, ctx, error)) return;
    this.logger.error(
      `Fail to proxy: ${error}, status: ${session.errorStatus}, tries: ${session.tries}, retry: ${error.retry()}, ${this.summary(session, ctx)}`,
    );
  }

  private summary(session: Session, ctx: Ctx): string {
    const f = this.phases.requestSummary;
    return f !== null ? f(session, ctx) : session.requestSummary();
  }
}

function digestOf(conn: UpstreamSession, reused: boolean): UpstreamDigest {
  const s = conn.socket as import('node:tls').TLSSocket;
  const d: UpstreamDigest = {
    reused,
    localAddress: s.localAddress,
    localPort: s.localPort,
    remoteAddress: s.remoteAddress,
    remotePort: s.remotePort,
    connectedAt: performance.now(),
  };
  if (typeof s.getProtocol === 'function') {
    d.tls = { protocol: s.getProtocol(), alpn: s.alpnProtocol, cipher: s.getCipher()?.name };
  }
  return d;
}

/**
 * Pingora's `http_proxy_service`: a listening `Service` named "Pingora HTTP Proxy Service" that
 * proxies with `inner`. Add listeners with `addTcp`/`addUds`, then `server.addService(service)`.
 *
 * @example
 * ```ts
 * const server = new Server();
 * server.bootstrap();
 * const proxy = httpProxyService(server.configuration, {
 *   upstreamPeer: () => new HttpPeer('127.0.0.1:3000', false, ''),
 * });
 * proxy.addTcp('0.0.0.0:6188');
 * server.addService(proxy);
 * await server.runForever();
 * ```
 */
export function httpProxyService<Ctx>(
  conf: ProxyConf,
  inner: ProxyHttp<Ctx>,
  options: HttpProxyOptions & { name?: string } = {},
): Service<HttpServer> {
  const proxy = new HttpProxy(inner, {
    maxRetries: conf.maxRetries,
    upstreamKeepalivePoolSize: conf.upstreamKeepalivePoolSize,
    ...options,
  });
  return new Service(options.name ?? 'Pingora HTTP Proxy Service', new HttpServer(proxy));
}
