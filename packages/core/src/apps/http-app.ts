/**
 * HTTP apps. An {@link HttpServerApp} handles one request at a time through an
 * `HttpServerSession`; {@link HttpServer} adapts it to the `ServerApp` contract the listening
 * service drives (Pingora's blanket `impl ServerApp for HttpServerApp`). HTTP/1.x runs, by
 * default, on pingora-ts's own session over the accepted `net` sockets and its strict request
 * parser (protocols/h1-raw-*.ts); `h1Engine: 'node'` serves it with a node:http server that never
 * listens itself: accepted sockets are handed to it. Either way listeners, connection filters and
 * shutdown stay in the service. HTTP/2 runs on node:http2 sessions made
 * from the same accepted sockets: TLS connections that negotiated `h2`, and plaintext ones that
 * open with the h2 preface when `h2c` is on.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { type FastTimer, fastTimeout } from '@pingora-ts/timeout';
import { defaultLogger, type Logger } from '../logger.js';
import { H1RawServer } from '../protocols/h1-raw-server.js';
import { H1ServerSession, type H1SessionOptions } from '../protocols/h1-server-session.js';
import { H2ServerConnections, sniffH2Preface } from '../protocols/h2-server.js';
import type { H2ServerSession } from '../protocols/h2-server-session.js';
import type { HttpServerSession } from '../protocols/server-session.js';
import type { ShutdownWatch } from '../server/shutdown.js';
import { acceptErrorGuard } from '../services/connections.js';
import type { ServerApp } from './server-app.js';
import { handleClientError } from './client-error.js';
import type { HttpServerOptions } from './http-server-options.js';
import { requestHeadBytes, toOriginForm, withoutH2cUpgrade } from './h1-request-target.js';

export type { HttpServerOptions } from './http-server-options.js';

/** How long idle keep-alive connections stay open once a graceful shutdown starts. */
const IDLE_CLOSE_DELAY_MS = 1000;

/** The HTTP/1.x engine `PINGORA_TS_H1_ENGINE` asks for (read once), else undefined. */
const ENV_H1_ENGINE: 'node' | 'pingora' | undefined = (() => {
  const v = process.env.PINGORA_TS_H1_ENGINE;
  if (v === undefined || v === '') return undefined;
  if (v === 'node' || v === 'pingora') return v;
  throw new Error(`PINGORA_TS_H1_ENGINE must be 'node' or 'pingora', not ${JSON.stringify(v)}`);
})();

/** An HTTP application: handles each request through its session (Pingora's `HttpServerApp`). */
export interface HttpServerApp {
  /** Handle one request. Errors that escape are logged and answered with 500 when possible. */
  processNewHttp(session: HttpServerSession, shutdown: ShutdownWatch): void | Promise<void>;
  /** Server options; read once when the {@link HttpServer} is built. */
  readonly serverOptions?: HttpServerOptions;
  /** Called once when the service stops. */
  httpCleanup?(): void | Promise<void>;
}

/**
 * Adapts an {@link HttpServerApp} to a `ServerApp`. Owns one HTTP/1.x engine (see
 * {@link HttpServerOptions.h1Engine}) and one set of HTTP/2 connections for all of the service's
 * listeners.
 *
 * @example
 * ```ts
 * const service = new Service('echo', new HttpServer({
 *   processNewHttp(session) {
 *     session.respondErrorWithBody(200, 'hello');
 *   },
 * }));
 * service.addTcp('127.0.0.1:8080');
 * ```
 */
export class HttpServer implements ServerApp {
  /** The node:http server (never listening itself); serves HTTP/1.x when `h1Engine` is `'node'`. */
  readonly h1: http.Server;
  /** Downstream HTTP/2 connections. */
  readonly h2: H2ServerConnections;
  readonly logger: Logger;
  /** The raw-socket HTTP/1.x engine, when `h1Engine` is `'pingora'` (the default). */
  readonly raw: H1RawServer | undefined;
  private readonly sessionOptions: H1SessionOptions;
  private readonly h2c: boolean;
  private readonly sniffTimeout: number;
  private readonly headersTimeout: number;
  // Installed on each connection's node parser; `this` is the parser.
  private readonly onMessageBegin: (this: NodeParser) => void;
  private sweepFallback = false;
  private shutdown: ShutdownWatch | undefined;
  private drainTimer: NodeJS.Timeout | undefined;
  private draining = false;

  constructor(
    readonly app: HttpServerApp,
    options: HttpServerOptions = app.serverOptions ?? {},
  ) {
    this.logger = options.logger ?? defaultLogger();
    const timeout = (v: number | null | undefined) => (v === null ? undefined : (v ?? 60_000));
    this.sessionOptions = {
      readTimeout: timeout(options.readTimeout),
      writeTimeout: timeout(options.writeTimeout),
    };
    const h1 = http.createServer({
      maxHeaderSize: options.maxHeaderSize ?? 16_384,
      insecureHTTPParser: false,
      joinDuplicateHeaders: false,
      noDelay: true,
      requestTimeout: options.requestTimeout ?? 0,
      headersTimeout: options.headersTimeout ?? 60_000,
      keepAliveTimeout: options.keepaliveTimeout ?? 60_000,
      // Checked in dispatch instead, so the refusal is logged like every other malformed request.
      requireHostHeader: false,
    });
    if (options.keepaliveRequestLimit !== undefined) h1.maxRequestsPerSocket = options.keepaliveRequestLimit;
    h1.on('request', this.onRequest);
    h1.on('checkContinue', this.onCheckContinue);
    h1.on('upgrade', this.onUpgrade);
    h1.on('connect', (req: IncomingMessage, socket: Socket) => {
      clearHeadTimer(socket);
      if (options.allowConnectMethodProxying !== true) {
        socket.on('error', noop);
        socket.end('HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
        this.logger.warn({ method: req.method, url: req.url }, 'CONNECT refused (405)');
      } else {
        this.onUpgrade(req, socket, Buffer.alloc(0));
      }
    });
    h1.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) =>
      handleClientError(err, socket, this.logger, h1),
    );
    // node starts its header/request timeout checks on 'listening'; this server never listens.
    h1.emit('listening');
    h1.on('connection', this.onH1Connection);
    // Heads node completes without a 'request' event: they end the head wait too.
    h1.on('dropRequest', (_req: IncomingMessage, socket: Socket) => clearHeadTimer(socket));
    h1.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
      clearHeadTimer(req.socket);
      res.writeHead(417);
      res.end();
    });
    this.h1 = h1;
    this.h2c = options.h2c === true;
    this.headersTimeout = options.headersTimeout ?? 60_000;
    this.sniffTimeout = this.headersTimeout;
    const self = this;
    this.onMessageBegin = function (this: NodeParser) {
      const socket = this.socket;
      if (socket != null) self.armHeadTimer(socket);
    };
    this.raw =
      (ENV_H1_ENGINE ?? options.h1Engine ?? 'pingora') === 'pingora'
        ? new H1RawServer(
            {
              sessionOptions: this.sessionOptions,
              keepaliveMs: options.keepaliveTimeout ?? 60_000,
              headersTimeout: this.headersTimeout,
              requestTimeout: options.requestTimeout ?? 0,
              lingeringTimeout: options.lingeringTimeout ?? 5_000,
              lingeringTime: options.lingeringTime ?? 30_000,
              maxHeaderSize: options.maxHeaderSize ?? 16_384,
              requestLimit: options.keepaliveRequestLimit,
              allowConnect: options.allowConnectMethodProxying === true,
              logger: this.logger,
            },
            (session) => this.run(session),
          )
        : undefined;
    this.h2 = new H2ServerConnections(this.onH2Stream, {
      sessionOptions: options.h2Options,
      idleTimeoutMs: options.keepaliveTimeout ?? 60_000,
      allowConnect: options.allowConnectMethodProxying === true,
      logger: this.logger,
    });
  }

  processNew(stream: Socket, shutdown: ShutdownWatch): void {
    this.shutdown = shutdown;
    const tlsSocket = stream as TLSSocket;
    if (tlsSocket.encrypted === true) {
      if (tlsSocket.alpnProtocol === 'h2') this.h2.accept(stream);
      else this.acceptH1(stream);
      return;
    }
    if (!this.h2c) {
      this.acceptH1(stream);
      return;
    }
    // The wait for the first head includes the peek, as it would without h2c.
    this.armHeadTimer(stream);
    sniffH2Preface(stream, this.sniffTimeout, (isH2) => {
      if (isH2) {
        clearHeadTimer(stream);
        this.h2.accept(stream);
        return;
      }
      if (this.raw !== undefined) clearHeadTimer(stream);
      this.acceptH1(stream);
      // The peeked bytes sit in the socket's buffer: flowing again hands them to the parser first.
      stream.resume();
    });
  }

  // The HTTP/1.x engine takes the connection (after any h2c sniff).
  private acceptH1(stream: Socket): void {
    const raw = this.raw;
    if (raw === undefined) {
      this.h1.emit('connection', stream);
      return;
    }
    if (stream.listenerCount('error') > 0) stream.removeListener('error', acceptErrorGuard);
    raw.accept(stream);
  }

  onShutdown(graceful: boolean): void {
    this.h2.shutdown(graceful);
    this.raw?.shutdown(graceful);
    if (!graceful) {
      this.h1.closeAllConnections();
      return;
    }
    if (this.draining) return;
    this.draining = true;
    // Busy keep-alive connections get `Connection: close` on their next response (see dispatch).
    // Idle ones are closed from IDLE_CLOSE_DELAY_MS on, then swept as more become idle: closing an
    // idle connection at once races a client that is sending its next request on it (it sees a
    // reset instead of a response), which during an upgrade under load means failed requests. A
    // client that keeps sending gets its `Connection: close` within the delay.
    const sweep = () => this.h1.closeIdleConnections();
    this.drainTimer = setTimeout(() => {
      sweep();
      this.drainTimer = setInterval(sweep, 250);
      this.drainTimer.unref();
    }, IDLE_CLOSE_DELAY_MS);
    this.drainTimer.unref();
  }

  async cleanup(): Promise<void> {
    if (this.drainTimer !== undefined) clearInterval(this.drainTimer);
    this.raw?.stop();
    clearInterval(
      (this.h1 as unknown as { [k: symbol]: NodeJS.Timeout })[connectionsCheckingInterval(this.h1)],
    );
    await this.app.httpCleanup?.();
  }

  /**
   * node:http only enforces `headersTimeout` in a sweep every `connectionsCheckingInterval` (30 s),
   * so a 2 s limit cut a slow head after up to 32 s. Each connection instead gets a timer on the
   * shared 10 ms buckets while a head is being read: from the connection's start, then from the
   * first byte of each later request (node's parser reports it through its message-begin slot),
   * cleared when the head is complete. node's sweep stays as a backstop.
   */
  private readonly onH1Connection = (socket: Socket): void => {
    // node's own 'error' listener is on now, and it leaves a no-op behind after the first error:
    // the service's guard would only be one more listener on every idle connection.
    if (socket.listenerCount('error') > 1) socket.removeListener('error', acceptErrorGuard);
    if (this.headersTimeout <= 0) return;
    const parser = (socket as HeadSocket).parser;
    if (canHookMessageBegin(parser)) parser[K_ON_MESSAGE_BEGIN] = this.onMessageBegin;
    else this.useSweepFallback();
    this.armHeadTimer(socket);
  };

  private armHeadTimer(socket: Socket): void {
    if (this.headersTimeout <= 0) return;
    const s = socket as HeadSocket;
    const t = s[HEAD_TIMER];
    // The first request's timer was armed at the connection's start; its first byte keeps it.
    if (t?.pending === true) return;
    if (t === undefined) s.on('close', clearHeadTimerOnClose);
    s[HEAD_TIMER] = fastTimeout(this.onHeadTimeout, this.headersTimeout, s);
  }

  private readonly onHeadTimeout = (socket: HeadSocket): void => {
    socket[HEAD_TIMER] = null;
    if (socket.destroyed) return;
    // A pipelined response still on its way leaves no room for a 408: the connection just closes.
    const answer = socket._httpMessage == null && socket.writable;
    this.logger.warn(
      { client: socket.remoteAddress, status: answer ? 408 : undefined, headersTimeout: this.headersTimeout },
      `request head not received within ${this.headersTimeout} ms; connection closed`,
    );
    if (!answer) {
      socket.destroy();
      return;
    }
    socket.on('error', noop);
    socket.end(RESPONSE_408);
    socket.destroySoon();
  };

  // Without the parser hook (a node whose internals differ), later requests on a keep-alive
  // connection fall back to node's sweep, run often enough to stay near the limit.
  private useSweepFallback(): void {
    if (this.sweepFallback) return;
    this.sweepFallback = true;
    (this.h1 as { connectionsCheckingInterval?: number }).connectionsCheckingInterval = Math.min(
      30_000,
      Math.max(50, Math.ceil(this.headersTimeout / 10)),
    );
    this.h1.emit('listening');
    this.logger.debug({}, 'node:http parser hook unavailable; headersTimeout checked by sweep');
  }

  private readonly onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    clearHeadTimer(req.socket);
    this.dispatch(new H1ServerSession(req, res, undefined, false, this.sessionOptions), res);
  };

  private readonly onCheckContinue = (req: IncomingMessage, res: ServerResponse): void => {
    clearHeadTimer(req.socket);
    // 100 Continue is sent when the app first reads the body, so a refused request costs no upload.
    this.dispatch(new H1ServerSession(req, res, undefined, true, this.sessionOptions), res);
  };

  private readonly onUpgrade = (req: IncomingMessage, socket: Socket, head: Buffer): void => {
    clearHeadTimer(socket);
    socket.on('error', noop);
    if (req.method !== 'CONNECT' && withoutH2cUpgrade(req)) {
      // Only h2c was offered. Tunnelling it would hand the connection to whatever the origin speaks
      // after its 101, past every phase; instead node parses the request again without the upgrade
      // (body and any later requests included) and it is proxied as a plain request.
      socket.unshift(head.length > 0 ? Buffer.concat([requestHeadBytes(req), head]) : requestHeadBytes(req));
      this.h1.emit('connection', socket);
      return;
    }
    this.dispatch(
      new H1ServerSession(req, undefined, { socket, head }, false, this.sessionOptions),
      undefined,
    );
  };

  private readonly onH2Stream = (session: H2ServerSession): void => {
    const badHost = session.scan.badHost;
    if (badHost !== undefined) {
      // As on HTTP/1 (see dispatch): two names for the target are refused before any phase runs.
      this.logger.warn(
        { client: session.connection.socket.remoteAddress, status: 400 },
        `rejected malformed request: ${badHost}`,
      );
      session.respondError(400);
      return;
    }
    this.run(session);
  };

  private dispatch(session: H1ServerSession, res: ServerResponse | undefined): void {
    const req = session.req;
    // An h2c offer without `Connection: upgrade` is no upgrade to node, but an origin could still
    // take it and switch protocols: it never leaves here.
    if (session.offersUpgrade && res !== undefined) withoutH2cUpgrade(req);
    const bad =
      req.httpVersionMajor !== 1
        ? `HTTP/${req.httpVersion} request line`
        : session.invalidFraming
          ? 'invalid Transfer-Encoding'
          : session.duplicateHost
            ? 'more than one Host field'
            : req.httpVersionMinor === 1 && !session.hasHost
              ? 'HTTP/1.1 request without Host'
              : req.url !== undefined && req.url.charCodeAt(0) !== 0x2f /* '/' */
                ? toOriginForm(req)
                : undefined;
    if (bad !== undefined) {
      // llhttp takes "HTTP/2.0" (and no other version above 1.1): a version we do not speak is 505.
      // HTTP/0.9 has no fields (no Host to route on) and its clients read no status line: 400.
      const status = req.httpVersionMajor > 1 ? 505 : 400;
      this.logger.warn({ client: req.socket.remoteAddress, status }, `rejected malformed request: ${bad}`);
      session.setKeepalive(undefined);
      session.respondError(status);
      return;
    }
    if (this.draining && res !== undefined) res.shouldKeepAlive = false;
    this.run(session);
  }

  private run(session: HttpServerSession): void {
    const shutdown = this.shutdown ?? NEVER_SHUTDOWN;
    let r: void | Promise<void>;
    try {
      r = this.app.processNewHttp(session, shutdown);
    } catch (e) {
      this.appFailed(session, e);
      return;
    }
    if (r !== undefined && typeof (r as Promise<void>).then === 'function') {
      (r as Promise<void>).then(undefined, (e: unknown) => this.appFailed(session, e));
    }
  }

  private appFailed(session: HttpServerSession, e: unknown): void {
    this.logger.error({ err: e }, 'HTTP app failed while handling a request');
    if (session.responseWritten() === undefined) session.respondError(500);
    else if (!session.responseFinished) session.abort();
  }
}

const HEAD_TIMER = Symbol('pingora-ts.headTimer');
// The head timer of a connection: `undefined` before it was first armed, `null` between heads.
type HeadSocket = Socket & {
  [HEAD_TIMER]?: FastTimer | null;
  parser?: NodeParser | null;
  _httpMessage?: unknown;
};

// node's HTTPParser: callbacks live in numbered slots (node_http_parser.cc), 0 being
// kOnMessageBegin, which node:http's server leaves empty and resets when the parser is freed.
interface NodeParser {
  socket?: Socket | null;
  [slot: number]: unknown;
}
const K_ON_MESSAGE_BEGIN = 0;
const K_ON_HEADERS_COMPLETE = 2;

function canHookMessageBegin(parser: NodeParser | null | undefined): parser is NodeParser {
  if (parser == null) return false;
  const complete = parser[K_ON_HEADERS_COMPLETE];
  return (
    parser[K_ON_MESSAGE_BEGIN] === null &&
    typeof complete === 'function' &&
    complete.name === 'parserOnHeadersComplete'
  );
}

function clearHeadTimer(socket: Socket): void {
  const s = socket as HeadSocket;
  const t = s[HEAD_TIMER];
  if (t != null) {
    t.clear();
    s[HEAD_TIMER] = null;
  }
}

// Shared 'close' listener (`this` is the socket): no closure per connection.
function clearHeadTimerOnClose(this: Socket): void {
  clearHeadTimer(this);
}

const RESPONSE_408 = 'HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\nConnection: close\r\n\r\n';

function connectionsCheckingInterval(server: http.Server): symbol {
  return Object.getOwnPropertySymbols(server).find(
    (s) => s.description === 'http.server.connectionsCheckingInterval',
  )!;
}

const NEVER_SHUTDOWN: ShutdownWatch = {
  shuttingDown: false,
  graceful: false,
  onShutdown: () => noop,
  wait: () => new Promise<void>(noop),
};

function noop(): void {}
