/**
 * `Server`: the process lifecycle (Pingora's `Server`). It loads the configuration, starts the
 * services in the order they were added, turns signals into shutdowns and exits when done:
 *
 * - SIGTERM: graceful. Listeners close at once; in-flight work has `grace_period_seconds`; the
 *   services' cleanup gets `graceful_shutdown_timeout_seconds` more; then exit 0. The server
 *   exits as soon as everything has finished, without sleeping out the grace period as Pingora does.
 * - SIGINT: fast. Connections are destroyed at once (also after a SIGTERM, to cut a drain short).
 * - SIGQUIT: Pingora's graceful upgrade. Socket hand-over is not implemented yet, so it logs that
 *   and terminates gracefully.
 */
import { createLogger, type Logger } from '../logger.js';
import type { ServerService } from '../services/service.js';
import { ServerConf } from './conf.js';
import { enterDaemon, isDaemonChild, launchDaemon, notifyLauncher } from './daemon.js';
import { isCommandLineOpt, OPT_USAGE, Opt } from './opt.js';
import { debugEnabled, errorLine, printFatal } from './report.js';
import { ShutdownController, type ShutdownWatch } from './shutdown.js';
import { installSignalHandlers, logUncaughtErrors, type SignalSource } from './signals.js';

/** Where the server is in its life (a subset of Pingora's `ExecutionPhase`; no upgrade phases yet). */
export type ExecutionPhase =
  | 'Setup'
  | 'Bootstrap'
  | 'BootstrapComplete'
  | 'Running'
  | 'GracefulTerminate'
  | 'ShutdownStarted'
  | 'ShutdownGracePeriod'
  | 'Terminated';

/** Embedding and testing hooks of {@link Server}. */
export interface ServerOptions {
  /** Default: a pino logger to `error_log` or stderr. */
  logger?: Logger;
  /** How `bootstrap()` and `runForever()` end the process. Default `process.exit`. */
  exit?: (code: number) => void;
  /** Default `process`. */
  signals?: SignalSource;
  /**
   * `runForever()` logs uncaught exceptions and unhandled rejections at error level instead of
   * letting one bad callback end every connection. Default true. Node documents that state may be
   * inconsistent after an uncaught exception; set false to crash (and let a supervisor restart).
   */
  catchUncaught?: boolean;
}

/**
 * The server.
 *
 * @example
 * ```ts
 * const server = new Server(Opt.parseArgs());
 * server.bootstrap();
 * const echo = new Service('Echo Service', new EchoApp());
 * echo.addTcp('0.0.0.0:6142');
 * server.addService(echo);
 * await server.runForever();
 * ```
 */
export class Server {
  /** The command-line options the server was made with. */
  readonly opt: Opt;
  /** The server's logger; services without their own log through it. */
  readonly logger: Logger;
  readonly #conf: ServerConf;
  readonly #services: ServerService[] = [];
  readonly #started: ServerService[] = [];
  readonly #ctl: ShutdownController;
  readonly #exit: (code: number) => void;
  readonly #signals: SignalSource;
  readonly #catchUncaught: boolean;
  readonly #phaseListeners = new Set<(phase: ExecutionPhase) => void>();
  #phase: ExecutionPhase = 'Setup';
  #starting: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;

  /**
   * `conf` wins over `opt.conf`; without either, {@link ServerConf.default}. `-d` turns `daemon`
   * on. An unreadable or invalid conf file throws a `PingoraError` whose message is one line
   * (`conf.yaml:3: treads: unknown key (did you mean "threads"?)`); when `opt` came from the
   * command line ({@link Opt.parseArgs} with no argument), that line goes to stderr instead and
   * the process exits 1, as `nginx -t` does (with a stack trace only under `PINGORA_TS_DEBUG=1`).
   */
  constructor(opt?: Opt | null, conf?: ServerConf, options: ServerOptions = {}) {
    this.opt = opt ?? new Opt();
    this.#exit = options.exit ?? ((code) => process.exit(code));
    const base = conf ?? this.#loadConf();
    this.#conf = new ServerConf({ ...base, daemon: base.daemon || this.opt.daemon });
    this.logger = options.logger ?? createLogger({ errorLog: this.#conf.errorLog });
    this.#signals = options.signals ?? process;
    this.#catchUncaught = options.catchUncaught ?? true;
    this.#ctl = new ShutdownController((err) => this.logger.error({ err }, 'shutdown listener failed'));
  }

  #loadConf(): ServerConf {
    const path = this.opt.conf;
    if (path === undefined) return ServerConf.default();
    try {
      return ServerConf.load(path);
    } catch (err) {
      if (!isCommandLineOpt(this.opt)) throw err;
      printFatal(err);
      this.#exit(1);
      throw err; // only reached when `exit` is a test double that returns
    }
  }

  /** The effective configuration. */
  get configuration(): ServerConf {
    return this.#conf;
  }

  /** The shutdown broadcast every service receives. */
  get shutdownWatch(): ShutdownWatch {
    return this.#ctl.watch;
  }

  /** The current phase. */
  get phase(): ExecutionPhase {
    return this.#phase;
  }

  /** Observe phase changes (Pingora's `watch_execution_phase`); returns an unsubscribe function. */
  onPhase(cb: (phase: ExecutionPhase) => void): () => void {
    this.#phaseListeners.add(cb);
    return () => this.#phaseListeners.delete(cb);
  }

  #setPhase(phase: ExecutionPhase): void {
    this.#phase = phase;
    for (const cb of [...this.#phaseListeners]) {
      try {
        cb(phase);
      } catch (err) {
        this.logger.error({ err, phase }, 'phase listener failed');
      }
    }
  }

  /**
   * Prepare to run. `-h` prints the usage and exits 0. `-t` (the configuration was already
   * validated when the server was made) prints one line to stderr, like `nginx -t`, and exits 0:
   * `pingora-ts: configuration file conf.yaml test is successful`. `-u` is not supported yet:
   * listeners are bound fresh.
   */
  bootstrap(): void {
    this.#setPhase('Bootstrap');
    if (this.opt.help) {
      process.stdout.write(`${OPT_USAGE}\n`);
      this.#exit(0);
      return;
    }
    if (this.opt.test) {
      const what =
        this.opt.conf === undefined ? 'default configuration' : `configuration file ${this.opt.conf}`;
      process.stderr.write(`pingora-ts: ${what} test is successful\n`);
      this.#exit(0);
      return;
    }
    this.logger.info('Bootstrap starting');
    if (this.opt.upgrade)
      this.logger.warn('graceful upgrade (-u) is not supported yet; binding listeners fresh');
    this.logger.info('Bootstrap done');
    this.#setPhase('BootstrapComplete');
  }

  /** Add a service; services start in the order they were added. Returns it. */
  addService<S extends ServerService>(service: S): S {
    this.#services.push(service);
    return service;
  }

  /** Add several services. */
  addServices(services: Iterable<ServerService>): void {
    for (const s of services) this.addService(s);
  }

  /**
   * Start every service, in order, without touching signals or the process: for tests and
   * embedding. If one fails to start, those already started are stopped fast and the error is thrown.
   */
  start(): Promise<void> {
    this.#starting ??= this.#startAll();
    return this.#starting;
  }

  async #startAll(): Promise<void> {
    try {
      for (const service of this.#services) {
        if (this.#ctl.shuttingDown) return;
        await service.start(this.#ctl.watch, this.logger);
        this.#started.push(service);
      }
    } catch (err) {
      // Tell the services already running (background tasks) to end, then stop them fast.
      this.#ctl.shutdown(false);
      await Promise.allSettled(this.#started.map((s) => s.stop(false, 0)));
      this.#started.length = 0;
      throw err;
    }
    this.#setPhase('Running');
  }

  /**
   * Stop every started service: graceful (default) or fast. Resolves when all have stopped, or
   * when the grace period plus `graceful_shutdown_timeout_seconds` has run out. A fast call during
   * a graceful shutdown escalates it.
   */
  shutdown({ graceful = true }: { graceful?: boolean } = {}): Promise<void> {
    const changed = this.#ctl.shutdown(graceful);
    if (this.#stopping !== undefined) {
      if (changed && !graceful) {
        this.logger.info('fast shutdown: closing remaining connections');
        // A failure here is the same one the first stop call reports; do not log it twice.
        for (const s of this.#started) Promise.resolve(s.stop(false, 0)).catch(() => {});
      }
      return this.#stopping;
    }
    this.#stopping = this.#stopAll(graceful);
    return this.#stopping;
  }

  async #stopAll(graceful: boolean): Promise<void> {
    if (graceful) this.#setPhase('GracefulTerminate');
    this.#setPhase('ShutdownStarted');
    await this.#starting?.catch(() => {});
    const graceMs = graceful ? this.#conf.gracePeriodSeconds * 1000 : 0;
    const limitMs = graceMs + this.#conf.gracefulShutdownTimeoutSeconds * 1000;
    if (graceful) this.#setPhase('ShutdownGracePeriod');
    const stops = this.#started.map(async (s) => {
      try {
        await s.stop(graceful, graceMs);
      } catch (err) {
        this.logger.error({ err, service: s.name }, 'service failed to stop');
      }
    });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), limitMs);
    });
    const outcome = await Promise.race([Promise.all(stops), late]);
    clearTimeout(timer);
    if (outcome === 'late') this.logger.warn({ limitMs }, 'services did not stop in time');
    this.#setPhase('Terminated');
  }

  /**
   * Run until a signal: daemonize if configured, start the services, handle SIGTERM / SIGINT /
   * SIGQUIT, shut down, and exit 0 (1 if the services cannot start).
   */
  async runForever(): Promise<never> {
    const daemonChild = this.#conf.daemon && isDaemonChild();
    try {
      if (this.#conf.daemon && !daemonChild) {
        this.#exit(await launchDaemon(this.#conf, this.logger));
        return new Promise<never>(() => {});
      }
      if (daemonChild) enterDaemon(this.#conf);
    } catch (err) {
      // An unwritable pid file or error_log, or a user/group that does not exist.
      this.logger.fatal({ err }, 'cannot daemonize');
      if (daemonChild) notifyLauncher(false);
      this.#exit(1);
      return new Promise<never>(() => {});
    }
    if (this.#catchUncaught) logUncaughtErrors(this.logger);
    // Before starting: a SIGTERM during a slow start (bind retries) still shuts down cleanly.
    const removeHandlers = installSignalHandlers(this.#signals, this.logger, (graceful) => {
      void this.shutdown({ graceful });
    });
    try {
      await this.start();
    } catch (err) {
      removeHandlers();
      // One line naming what failed (`cannot listen on 127.0.0.1:80: permission denied (EACCES)`);
      // the error object, with its stack, only when debugging.
      this.logger.fatal(debugEnabled() ? { err } : {}, errorLine(err));
      if (daemonChild) notifyLauncher(false);
      this.#exit(1);
      return new Promise<never>(() => {});
    }
    if (daemonChild) notifyLauncher(true);
    await this.#ctl.watch.wait();
    await this.#stopping;
    removeHandlers();
    this.logger.info('All services stopped, exiting');
    this.#exit(0);
    return new Promise<never>(() => {});
  }
}
