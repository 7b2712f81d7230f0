/**
 * `HttpProxy`: runs a `ProxyHttp` for every request a core HTTP service hands it — the phase
 * sequence, the retry loop and the error path, in Pingora's order (see the phase chart in the
 * README). `httpProxyService` wraps it in a listening `Service`.
 */
import {
  Connector,
  type HttpModuleCtx,
  HttpModules,
  type HttpServerApp,
  type HttpServerOptions,
  type HttpServerSession,
  type Logger,
  ResponseCompressionBuilder,
  type ShutdownWatch,
  defaultLogger,
} from '@pingora-ts/core';
import type { WritePermit } from '@pingora-ts/cache';
import { isPingoraError, type PingoraError } from '@pingora-ts/error';
import { type CacheOwner, ProxyCache } from './cache/proxy-cache.js';
import { SubrequestSession } from './cache/subrequest-session.js';
import {
  publishRequestEnd,
  publishRequestStart,
  requestEndChannel,
  requestStartChannel,
} from './diagnostics.js';
import { CLIENT_CLOSED_REQUEST, defaultFailToProxy, errorStatus } from './fail-to-proxy.js';
import { compilePhases, describeFailure, isPromise, type Phases, phaseError } from './phases.js';
import type { ProxyHttp } from './proxy-http.js';
import { Session } from './session.js';
import { type AttemptOwner, UpstreamAttempt } from './upstream-attempt.js';

/** Settings of an {@link HttpProxy}. */
export interface HttpProxyOptions {
  /** Retry cap (Pingora's `max_retries`); the error's retry flag decides. Default 16. */
  maxRetries?: number;
  /** Downstream server options (keep-alive, timeouts, limits). */
  serverOptions?: HttpServerOptions;
  /**
   * Upstream connector; default one sized by `upstreamKeepalivePoolSize` (with
   * `httpProxyService`, one built from the server configuration).
   */
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

// Plain words for the socket errors a retry line most often reports.
const ERRNO_TEXT: Record<string, string> = {
  ECONNREFUSED: 'Connection refused',
  ECONNRESET: 'Connection reset by peer',
  EPIPE: 'Broken pipe',
  ETIMEDOUT: 'Connection timed out',
  EHOSTUNREACH: 'No route to host',
  ENETUNREACH: 'Network is unreachable',
  ENOTFOUND: 'Host not found',
  EAI_AGAIN: 'Temporary DNS failure',
  ENOENT: 'No such socket file',
};

/** Why an attempt failed, in a few words: the socket error's text, else the innermost type and context. */
function failureReason(error: PingoraError): string {
  const root = error.rootCause() as { code?: unknown; message?: unknown } | undefined;
  const code = root?.code;
  if (typeof code === 'string' && ERRNO_TEXT[code] !== undefined) return ERRNO_TEXT[code];
  let inner: PingoraError = error;
  while (isPingoraError(inner.cause)) inner = inner.cause;
  if (!isPingoraError(root) && root instanceof Error) return `${inner.type.name}: ${root.message}`;
  return inner.context === undefined ? inner.type.name : `${inner.type.name}: ${inner.context}`;
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
export class HttpProxy<Ctx = unknown> implements HttpServerApp, AttemptOwner<Ctx>, CacheOwner<Ctx> {
  readonly serverOptions: HttpServerOptions;
  readonly connector: Connector;
  readonly maxRetries: number;
  readonly logger: Logger;
  /**
   * The modules every request runs (Pingora's `downstream_modules`), filled once by
   * `initDownstreamModules` when the proxy is built.
   */
  readonly downstreamModules: HttpModules;
  /** @internal The compiled phase table. */
  readonly phases: Phases<Ctx>;
  readonly tunnelIdleTimeout: number | undefined;
  /** @internal The cache phases; made only when `requestCacheFilter` is defined. */
  readonly proxyCache: ProxyCache<Ctx> | undefined;

  constructor(
    readonly inner: ProxyHttp<Ctx>,
    options: HttpProxyOptions = {},
  ) {
    this.phases = compilePhases(inner);
    this.proxyCache = this.phases.requestCacheFilter !== null ? new ProxyCache(this) : undefined;
    this.maxRetries = options.maxRetries ?? 16;
    this.tunnelIdleTimeout = options.tunnelIdleTimeout;
    this.logger = options.logger ?? defaultLogger();
    this.serverOptions = { logger: this.logger, ...options.serverOptions };
    this.connector =
      options.connector ?? new Connector({ keepalivePoolSize: options.upstreamKeepalivePoolSize ?? 128 });
    this.downstreamModules = new HttpModules();
    // As Pingora: the default registers response compression, disabled (a request may turn it on);
    // a user's initDownstreamModules replaces that default.
    if (typeof inner.initDownstreamModules === 'function')
      inner.initDownstreamModules(this.downstreamModules);
    else this.downstreamModules.addModule(ResponseCompressionBuilder.enable(0));
  }

  processNewHttp(downstream: HttpServerSession, shutdown: ShutdownWatch): Promise<void> {
    return this.handle(new Session(downstream, this.logger, shutdown));
  }

  /** @internal Refreshes a stale asset in the background (stale-while-revalidate), holding `permit`. */
  spawnBackgroundRefresh(session: Session, permit: WritePermit): void {
    const d = session.downstream;
    const req = session.reqHeader().clone();
    const sub = new Session(
      new SubrequestSession(req, d.clientAddr(), d.serverAddr()),
      this.logger,
      session.shutdownWatch,
    );
    sub.refreshPermit = permit;
    void this.handle(sub).finally(() => {
      // The refresh never reached the lookup (a phase answered it): the lock must not stay held.
      if (sub.refreshPermit !== undefined) sub.refreshPermit.unlock('TransientError');
    });
  }

  httpCleanup(): void {
    this.connector.close();
  }

  private async handle(session: Session): Promise<void> {
    const p = this.phases;
    let ctx = undefined as Ctx;
    let error: PingoraError | undefined;
    // The phase running now, named in the error log if it throws (a constant string: no cost).
    let phase = 'newCtx';
    let mods: HttpModuleCtx | undefined;
    if (requestStartChannel.hasSubscribers) publishRequestStart(session);
    try {
      // No registered module: nothing is built or run for the request.
      if (!this.downstreamModules.isEmpty) {
        phase = 'downstream modules init';
        mods = session.downstreamModules = this.downstreamModules.buildCtx();
        phase = 'newCtx';
      }
      if (p.newCtx !== null) ctx = p.newCtx();
      if (p.earlyRequestFilter !== null) {
        phase = 'earlyRequestFilter';
        const r = p.earlyRequestFilter(session, ctx);
        if (isPromise(r)) await r;
      }
      if (mods !== undefined) {
        phase = 'downstream modules requestHeaderFilter';
        const r = mods.requestHeaderFilter(session.reqHeader());
        if (isPromise(r)) await r;
      }
      let answered = false;
      if (p.requestFilter !== null) {
        phase = 'requestFilter';
        const r = p.requestFilter(session, ctx);
        answered = isPromise<boolean>(r) ? await r : r;
      }
      if (!answered && this.proxyCache !== undefined) {
        phase = 'cache';
        const r = await this.proxyCache.lookup(session, ctx);
        if (r !== 'upstream') {
          answered = true;
          if (r !== 'served') error = r;
        }
      }
      if (!answered && p.proxyUpstreamFilter !== null) {
        phase = 'proxyUpstreamFilter';
        const r = p.proxyUpstreamFilter(session, ctx);
        const go = isPromise<boolean>(r) ? await r : r;
        if (!go) {
          answered = true;
          session.cacheIfUsed?.disable('DeclinedToUpstream');
          if (session.responseWritten() === undefined) session.respondError(502);
        }
      }
      // The retry loop, inline: one async frame fewer per request.
      phase = 'upstream';
      while (!answered && session.tries < this.maxRetries) {
        session.tries++;
        error = await new UpstreamAttempt(this, session, ctx).run();
        if (session.upstreamStart !== 0 && session.upstreamTotal < 0) {
          session.upstreamTotal = performance.now() - session.upstreamStart;
        }
        if (error === undefined || !error.retry()) break;
        if (session.responseWritten() !== undefined) {
          error.setRetry(false);
          break;
        }
        if (session.tries < this.maxRetries) this.logRetry(session, ctx, error);
      }
      if (error !== undefined && this.proxyCache !== undefined) {
        phase = 'cache';
        const r = await this.proxyCache.staleIfError(session, ctx, error);
        if (r !== undefined) error = r === 'served' ? undefined : r;
      }
    } catch (e) {
      error = phaseError(e, phase);
    }
    if (session.cacheIfUsed !== undefined) releaseCache(session, error);
    const written = session.moduleResponse;
    if (written !== undefined) {
      // A response the user wrote through a module stream goes out before the done filter frees it.
      const out = written.settled();
      if (out !== undefined) await out;
      if (written.failure !== undefined && error === undefined) {
        error = phaseError(written.failure, 'downstream modules (written response)');
      }
    }
    if (error !== undefined) await this.handleError(session, ctx, error);
    if (mods !== undefined || session.upstreamCompressionCtx !== undefined) this.responseDone(session);
    if (requestEndChannel.hasSubscribers) publishRequestEnd(session, error);
    if (p.logging !== null) {
      try {
        const r = p.logging(session, error, ctx);
        if (isPromise(r)) await r;
      } catch (e) {
        this.logger.error({ err: e }, `logging failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }

  // The request is over (sent, failed or abandoned): modules release what they hold, and a
  // stream that did not finish is destroyed.
  private responseDone(session: Session): void {
    doneFilter(session, session.downstreamModules);
    doneFilter(session, session.upstreamCompressionCtx);
  }

  private async handleError(session: Session, ctx: Ctx, error: PingoraError): Promise<void> {
    const p = this.phases;
    const d = session.downstream;
    // A response whose head already went out cannot be replaced by an error response: cut it
    // short, so the client sees a truncated response instead of one that looks complete.
    const written = d.responseWritten();
    const sent = written !== undefined && !d.responseFinished ? written : undefined;
    const clientGone = errorStatus(error) === 0;
    if (sent !== undefined) {
      d.abort(true);
      session.responseAborted = true;
    }
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
      this.logger.error({ err: e }, `failToProxy failed: ${e instanceof Error ? e.message : String(e)}`);
      if (session.responseWritten() === undefined) session.respondError(500);
      code = 500;
    }
    // What the client got: the status of the head that went out, or nothing when it is gone.
    if (written !== undefined) session.errorStatus = clientGone ? CLIENT_CLOSED_REQUEST : written.status;
    else session.errorStatus = code === 0 ? CLIENT_CLOSED_REQUEST : code;
    if (p.suppressErrorLog?.(session, ctx, error)) return;
    const { phase, detail } = describeFailure(error);
    const tail = `status: ${session.errorStatus}, tries: ${session.tries}, retry: ${error.retry()}, ${this.summary(session, ctx)}`;
    let msg: string;
    if (sent !== undefined && !clientGone) {
      const what = phase === undefined ? 'Fail to proxy' : `${phase} failed`;
      msg = `${what} after the response header was sent; aborting the downstream connection: ${detail}, ${tail}`;
    } else {
      msg = phase === undefined ? `Fail to proxy: ${detail}, ${tail}` : `${phase} failed: ${detail}, ${tail}`;
    }
    // The request's logger: its reqId ties this line to the retry and access lines of the request.
    session.logger.error({ err: error }, msg);
  }

  // One line per retried attempt: which peer failed, how, and which attempt comes next.
  private logRetry(session: Session, ctx: Ctx, error: PingoraError): void {
    const peer = session.upstreamPeer;
    const addr = peer === undefined ? 'upstream' : String(peer.address);
    const next = session.tries + 1;
    let what: string;
    if (session.attemptStage === 0) what = 'choosing an upstream failed';
    else if (session.attemptStage === 1) what = `connect to ${addr} failed`;
    else if (session.upstreamReused) what = `reused connection to ${addr} failed`;
    else what = `request to ${addr} failed`;
    session.logger.warn(
      { err: error },
      `retrying request: ${what} (${failureReason(error)}), attempt ${next}, ${this.summary(session, ctx)}`,
    );
  }

  private summary(session: Session, ctx: Ctx): string {
    const f = this.phases.requestSummary;
    return f !== null ? f(session, ctx) : session.requestSummary();
  }
}

// Whatever the request still holds of the cache goes: a write lock (so waiting requests go on), a
// storage write that did not finish, a read lock wait, a hit handler.
function releaseCache(session: Session, error: PingoraError | undefined): void {
  const c = session.cacheIfUsed!;
  if (c.isCacheLockWriter() || c.missHandlerActive())
    c.disable(error !== undefined ? 'UpstreamError' : 'InternalError');
  else if (c.isCacheLocked()) c.cancelLockWait();
  void c.finishHitHandler().catch(() => undefined);
}

function doneFilter(session: Session, mods: HttpModuleCtx | undefined): void {
  try {
    mods?.responseDoneFilter();
  } catch (e) {
    session.logger.error(
      { err: e },
      `responseDoneFilter failed: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
}
