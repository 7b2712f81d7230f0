/**
 * The listening `Service` (Pingora's `listening::Service<A>`): one `net.Server` per endpoint, a
 * connection filter applied before any byte is read, tracking of live sockets, and the graceful /
 * fast stop sequence. What is spoken on a connection is the app's business (`ServerApp`).
 *
 * Accept errors: when the process runs out of file descriptors (`EMFILE`), libuv keeps the
 * listening socket open, sheds the pending connection and reports the error; the service logs it
 * and keeps accepting (Pingora sleeps 1 s instead; libuv's own handling makes that unnecessary).
 */
import type * as net from 'node:net';
import { ErrorType, PingoraError } from '@pingora-ts/error';
import { TlsSettings } from '@pingora-ts/tls-openssl';
import type { ServerApp } from '../apps/server-app.js';
import { defaultLogger, type Logger, levelEnabled } from '../logger.js';
import { noteUnixPath } from '../socket-addr.js';
import { listenFds } from '../server/listen-fds.js';
import type { ShutdownWatch } from '../server/shutdown.js';
import { closeServerKeepingPath } from '../server/upgrade/fd-passing.js';
import {
  type BindRetry,
  boundAddress,
  describeListener,
  formatAddress,
  type ListenAddress,
  ListenerConfig,
  openListener,
  type TcpSocketOptions,
} from './listener.js';
import {
  acceptErrorGuard,
  applyFilter,
  type ConnectionFilter,
  ConnectionTracker,
  remoteOf,
  type RemoteAddress,
} from './connections.js';
import type { ServerService } from './service.js';
import { startTlsHandshake } from './tls-accept.js';

/** Options of a listening {@link Service}. */
export interface ServiceOptions {
  /** Logger for this service; default: the server's, else the process default. */
  logger?: Logger;
  /**
   * `EADDRINUSE` retries at start. Default none: a port held by another process fails the start
   * at once, with one line naming it, instead of after seconds of silence. Pingora retries (for
   * a graceful upgrade, where the old process is about to let go); pass e.g.
   * `{ retries: 5, delayMs: 500 }` for that.
   */
  bindRetry?: BindRetry;
}

interface Endpoint {
  readonly cfg: ListenerConfig;
  readonly server: net.Server;
}

/**
 * A service that listens on TCP addresses and Unix sockets and hands each accepted connection to
 * its app.
 *
 * @example
 * ```ts
 * const svc = new Service('Echo Service', new EchoApp());
 * svc.addTcp('0.0.0.0:6142');
 * svc.addUds('/tmp/echo.sock', 0o660);
 * svc.setConnectionFilter(({ address }) => !address.startsWith('10.'));
 * server.addService(svc);
 *
 * // HTTPS: the handshake completes before the app sees the connection.
 * const web = new Service('web', new HttpServer(app));
 * web.addTls('0.0.0.0:443', '/etc/ssl/site.pem', '/etc/ssl/site.key');
 * ```
 */
export class Service<A extends ServerApp = ServerApp> implements ServerService {
  readonly name: string;
  /** Kept for configuration compatibility; one event loop serves every connection. */
  threads: number | undefined = undefined;
  readonly #app: A;
  readonly #listeners: ListenerConfig[] = [];
  readonly #endpoints: Endpoint[] = [];
  readonly #tracker = new ConnectionTracker();
  readonly #bindRetry: BindRetry;
  #ownLogger: Logger | undefined;
  #logger: Logger = defaultLogger();
  #filter: ConnectionFilter | undefined;
  #shutdown: ShutdownWatch | undefined;
  #stopping: Promise<void> | undefined;
  #stopped = false;

  constructor(name: string, app: A, opts: ServiceOptions = {}) {
    this.name = name;
    this.#app = app;
    this.#ownLogger = opts.logger;
    this.#bindRetry = opts.bindRetry ?? { retries: 0, delayMs: 0 };
  }

  /** The app (Pingora's `app_logic()`). */
  appLogic(): A {
    return this.#app;
  }

  /** Listen on a TCP address: `"0.0.0.0:6188"`, `"[::1]:8080"`, `"localhost:0"`. */
  addTcp(addr: string, options?: TcpSocketOptions): this {
    return this.addListener(ListenerConfig.tcp(addr, options));
  }

  /** Pingora's `add_tcp_with_settings`: {@link Service.addTcp} with socket options. */
  addTcpWithSettings(addr: string, options: TcpSocketOptions): this {
    return this.addTcp(addr, options);
  }

  /**
   * Listen with TLS on `addr` using the Mozilla intermediate profile, the certificate chain at
   * `certPath` and the key at `keyPath` (Pingora's `add_tls`). Reads the files now: throws a
   * `FileReadError`, or an `InternalError` for invalid PEM.
   */
  addTls(addr: string, certPath: string, keyPath: string): this {
    return this.addListener(ListenerConfig.tls(addr, TlsSettings.intermediate(certPath, keyPath)));
  }

  /**
   * Listen with TLS on `addr` with `settings` (ALPN, SNI callbacks, client certificates, handshake
   * timeout) and optional socket options (Pingora's `add_tls_with_settings`).
   */
  addTlsWithSettings(addr: string, socketOptions: TcpSocketOptions | undefined, settings: TlsSettings): this {
    return this.addListener(ListenerConfig.tls(addr, settings, socketOptions));
  }

  /** Listen on a Unix socket; a stale socket file is removed first, then `mode` is applied. */
  addUds(path: string, mode = 0o666): this {
    return this.addListener(ListenerConfig.uds(path, mode));
  }

  /** Add any listener. Listeners cannot be added once the service has started. */
  addListener(cfg: ListenerConfig): this {
    if (this.#shutdown !== undefined) {
      throw PingoraError.explain(ErrorType.InternalError, `service "${this.name}" already started`);
    }
    this.#listeners.push(cfg);
    return this;
  }

  /** Accept or reject each connection by client address before any parsing (one filter per service). */
  setConnectionFilter(filter: ConnectionFilter | undefined): this {
    this.#filter = filter;
    return this;
  }

  /** The configured listeners, in order. */
  listeners(): readonly ListenerConfig[] {
    return this.#listeners;
  }

  /** The bound addresses, in listener order (empty before start and after stop). */
  addresses(): ListenAddress[] {
    const out: ListenAddress[] = [];
    for (const { server } of this.#endpoints) {
      const a = boundAddress(server);
      if (a !== undefined) out.push(a);
    }
    return out;
  }

  /** Open connections right now. */
  get connections(): number {
    return this.#tracker.sockets.size;
  }

  /** Bind every listener; resolves when all listen. On failure, closes what was bound and throws a `BindError`. */
  async start(shutdown: ShutdownWatch, logger?: Logger): Promise<void> {
    if (this.#shutdown !== undefined || this.#stopping !== undefined) {
      throw PingoraError.explain(ErrorType.InternalError, `service "${this.name}" already started`);
    }
    this.#shutdown = shutdown;
    this.#logger = (this.#ownLogger ?? logger ?? defaultLogger()).child({ service: this.name });
    try {
      for (const cfg of this.#listeners) await this.#bind(cfg);
    } catch (err) {
      for (const ep of this.#endpoints) ep.server.close();
      this.#endpoints.length = 0;
      throw err;
    }
  }

  async #bind(cfg: ListenerConfig): Promise<void> {
    const tls = cfg.kind === 'tcp' ? cfg.tls : undefined;
    const server = await openListener(
      cfg,
      cfg.kind === 'uds'
        ? (socket) => {
            noteUnixPath(socket, cfg.path);
            this.#accept(socket, tls);
          }
        : (socket) => this.#accept(socket, tls),
      this.#bindRetry,
      this.#logger,
    );
    this.#endpoints.push({ cfg, server });
    const bound = boundAddress(server);
    this.#logger.info(
      { addr: bound === undefined ? describeListener(cfg) : formatAddress(bound) },
      'listening',
    );
  }

  #accept(socket: net.Socket, tls: TlsSettings | undefined): void {
    // Before anything else: a peer's RST must never become an uncaught 'error'.
    socket.on('error', acceptErrorGuard);
    // The raw socket stays tracked under TLS: it closes with the TLS socket, and destroying it
    // (fast shutdown) destroys the TLS socket too.
    this.#tracker.add(socket);
    const filter = this.#filter;
    if (filter === undefined) {
      this.#handOff(socket, tls);
      return;
    }
    const remote = remoteOf(socket);
    applyFilter(filter, remote, (accept, err) => {
      if (accept) this.#handOff(socket, tls);
      else this.#reject(socket, remote, err);
    });
  }

  #reject(socket: net.Socket, remote: RemoteAddress, err?: unknown): void {
    socket.destroy();
    if (err !== undefined)
      this.#logger.error({ err, remote }, 'connection filter failed; connection rejected');
    else if (levelEnabled(this.#logger, 'debug'))
      this.#logger.debug({ remote }, 'connection rejected by filter');
  }

  #handOff(socket: net.Socket, tls: TlsSettings | undefined): void {
    if (socket.destroyed) return;
    if (tls === undefined) this.#process(socket);
    else startTlsHandshake(socket, tls, this.#logger, this.#process);
  }

  readonly #process = (socket: net.Socket): void => {
    if (socket.destroyed) return;
    let result: void | Promise<void>;
    try {
      result = this.#app.processNew(socket, this.#shutdown!);
    } catch (err) {
      this.#appFailed(socket, err);
      return;
    }
    if (result !== undefined) result.then(undefined, (err: unknown) => this.#appFailed(socket, err));
  };

  #appFailed(socket: net.Socket, err: unknown): void {
    this.#logger.error({ err }, 'app failed on a connection');
    socket.destroy();
  }

  /**
   * Stop accepting now (new connections are refused), tell the app, then wait until every
   * connection has closed or `gracePeriodMs` has elapsed (graceful), destroy what remains, and
   * run the app's cleanup. A fast stop destroys the connections at once. Repeated calls return
   * the same promise; a fast call escalates a graceful stop that is under way.
   */
  stop(graceful: boolean, gracePeriodMs: number): Promise<void> {
    if (this.#stopping !== undefined) {
      if (!graceful && !this.#stopped) this.#abort();
      return this.#stopping;
    }
    // Never started: nothing to stop, and the app was never used.
    this.#stopping = this.#shutdown === undefined ? Promise.resolve() : this.#stop(graceful, gracePeriodMs);
    return this.#stopping;
  }

  async #stop(graceful: boolean, gracePeriodMs: number): Promise<void> {
    for (const { cfg, server } of this.#endpoints) {
      if (cfg.kind === 'uds' && listenFds.handedOver) closeServerKeepingPath(server);
      else server.close();
    }
    this.#endpoints.length = 0;
    const tracker = this.#tracker;
    this.#logger.info({ graceful, open: tracker.sockets.size }, 'stopped accepting');
    this.#notifyApp(graceful);
    if (tracker.sockets.size > 0) {
      const drained = tracker.drained();
      let timer: NodeJS.Timeout | undefined;
      if (!graceful) tracker.destroyAll();
      else
        timer = setTimeout(() => {
          this.#logger.warn(
            { open: tracker.sockets.size },
            'grace period over, closing remaining connections',
          );
          tracker.destroyAll();
        }, gracePeriodMs);
      await drained;
      clearTimeout(timer);
    }
    this.#stopped = true;
    try {
      await this.#app.cleanup?.();
    } catch (err) {
      this.#logger.error({ err }, 'app cleanup failed');
    }
    this.#logger.info('stopped');
  }

  #abort(): void {
    this.#notifyApp(false);
    this.#tracker.destroyAll();
  }

  #notifyApp(graceful: boolean): void {
    try {
      this.#app.onShutdown?.(graceful);
    } catch (err) {
      this.#logger.error({ err }, 'app onShutdown failed');
    }
  }
}
