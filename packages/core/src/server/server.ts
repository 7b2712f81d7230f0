/**
 * `Server`: the process lifecycle (Pingora's `Server`). It loads the configuration, starts the
 * services in the order they were added, turns signals into shutdowns and exits when done:
 *
 * - SIGTERM: graceful. Listeners close at once; in-flight work has `grace_period_seconds`; the
 *   services' cleanup gets `graceful_shutdown_timeout_seconds` more; then exit 0. The server
 *   exits as soon as everything has finished, without sleeping out the grace period as Pingora does.
 * - SIGINT: fast. Connections are destroyed at once (also after a SIGTERM, to cut a drain short).
 * - SIGQUIT: Pingora's graceful upgrade. The listening sockets go to the new process waiting on
 *   `upgrade_sock` (started with `-u`; needs core's native addon), both accept for 5 s, then the
 *   old one terminates gracefully.
 * - SIGUSR2: upgrade without the addon. The server starts its successor itself, which inherits the
 *   listening sockets; once the successor reports ready, the old one terminates gracefully.
 *
 * With `threads` > 1 (server-wide or on a service) the server runs as a main process and that
 * many worker processes sharing the listening sockets; see `process-mode.ts`.
 */
import { createLogger, type Logger } from '../logger.js';
import { GenBackgroundService } from '../services/background.js';
import type { ServerService } from '../services/service.js';
import { ServerConf } from './conf.js';
import { enterDaemon, isDaemonChild, launchDaemon, notifyLauncher } from './daemon.js';
import { listenFds } from './listen-fds.js';
import { isCommandLineOpt, OPT_USAGE, Opt } from './opt.js';
import { debugEnabled, errorLine, printFatal } from './report.js';
import { ShutdownController, type ShutdownWatch } from './shutdown.js';
import { groupState } from './process-group.js';
import { detectMode, MainProcess, type ProcessMode, serviceChannel, startsHere } from './process-mode.js';
import { installSignalHandlers, logUncaughtErrors, type SignalSource } from './signals.js';
import { fdPassingAvailable, receiveListenFds, sendListenFds } from './upgrade/fd-passing.js';
import { isSuccessor, startSuccessor } from './upgrade/successor.js';
import { reportWorkerReady, workerIdFromEnv } from './workers.js';

/** Pingora's CLOSE_TIMEOUT: after handing its sockets over, the old server accepts this long. */
const CLOSE_TIMEOUT_MS = 5000;

/** Where the server is in its life (Pingora's `ExecutionPhase`, without its runtime phase). */
export type ExecutionPhase =
  | 'Setup'
  | 'Bootstrap'
  | 'BootstrapComplete'
  | 'Running'
  | 'GracefulUpgradeTransferringFds'
  | 'GracefulUpgradeCloseTimeout'
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
  #mode: ProcessMode = { kind: 'single' };
  #main: MainProcess | undefined;
  #upgrading = false;

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
   * `pingora-ts: configuration file conf.yaml test is successful`. `-u` waits on `upgrade_sock`
   * for the old server's listening sockets (Pingora's protocol; blocks up to about 6 s), which
   * the listeners then adopt; without core's native addon, or when none arrive, listeners bind fresh.
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
    // Workers and successors inherit their sockets: only the process the user started with -u waits.
    if (this.opt.upgrade && !isSuccessor() && workerIdFromEnv() === undefined) this.#receiveSockets();
    this.logger.info('Bootstrap done');
    this.#setPhase('BootstrapComplete');
  }

  #receiveSockets(): void {
    const path = this.#conf.upgradeSock;
    if (!fdPassingAvailable()) {
      this.logger.error(
        { upgradeSock: path },
        'graceful upgrade (-u) needs the native addon of @pingora-ts/core, which is not built; binding listeners fresh (use SIGUSR2 on the old server for an upgrade without it)',
      );
      return;
    }
    try {
      const received = receiveListenFds(path, { retries: this.#conf.upgradeSockConnectAcceptMaxRetries });
      listenFds.adopt(received);
      this.logger.info({ sockets: [...received.keys()] }, 'graceful upgrade: listening sockets received');
    } catch (err) {
      this.logger.error(
        { err: debugEnabled() ? err : undefined },
        `${errorLine(err)}; binding listeners fresh`,
      );
    }
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
    const mode = this.#mode;
    const threads = this.#conf.threads;
    try {
      for (const [index, service] of this.#services.entries()) {
        if (this.#ctl.shuttingDown) return;
        if (!startsHere(mode, service, threads)) continue;
        if (mode.kind !== 'single' && service instanceof GenBackgroundService)
          service.useChannel(serviceChannel(index, service.name), mode.kind === 'worker');
        await service.start(this.#ctl.watch, this.logger);
        this.#started.push(service);
      }
      if (mode.kind === 'main') {
        this.#main = new MainProcess(mode.workers, this.logger);
        await this.#main.start(this.#services);
      }
    } catch (err) {
      // Tell the services already running (background tasks) to end, then stop them fast.
      this.#ctl.shutdown(false);
      this.#main?.stop(false);
      await Promise.allSettled(this.#started.map((s) => s.stop(false, 0)));
      this.#started.length = 0;
      this.#main?.close(false);
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
        this.#main?.stop(false);
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
    const main = this.#main;
    main?.stop(graceful);
    const stops = this.#started.map(async (s) => {
      try {
        await s.stop(graceful, graceMs);
      } catch (err) {
        this.logger.error({ err, service: s.name }, 'service failed to stop');
      }
    });
    if (main !== undefined) stops.push(main.exited());
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), limitMs);
    });
    const outcome = await Promise.race([Promise.all(stops), late]);
    clearTimeout(timer);
    if (outcome === 'late') {
      this.logger.warn({ limitMs }, 'services did not stop in time');
      main?.kill();
    }
    main?.close(listenFds.handedOver);
    this.#setPhase('Terminated');
  }

  /**
   * Run until a signal: daemonize if configured, start the services (in worker processes when
   * `threads` > 1), handle SIGTERM / SIGINT / SIGQUIT / SIGUSR2, shut down, and exit 0 (1 if the
   * services cannot start).
   */
  async runForever(): Promise<never> {
    const idle = new Promise<never>(() => {});
    this.#mode = detectMode(this.#conf.threads, this.#services);
    const worker = this.#mode.kind === 'worker';
    const daemonChild = !worker && this.#conf.daemon && isDaemonChild();
    // A successor or a worker inherits its listening sockets; everyone else binds (or got them from -u).
    listenFds.loadFromEnv();
    try {
      if (!worker && this.#conf.daemon && !daemonChild) {
        this.#exit(await launchDaemon(this.#conf, this.logger));
        return idle;
      }
      if (daemonChild) enterDaemon(this.#conf);
    } catch (err) {
      // An unwritable pid file or error_log, or a user/group that does not exist.
      this.logger.fatal({ err }, 'cannot daemonize');
      if (daemonChild) notifyLauncher(false);
      this.#exit(1);
      return idle;
    }
    const notify = daemonChild || (!worker && isSuccessor());
    if (this.#catchUncaught) logUncaughtErrors(this.logger);
    if (this.#mode.kind === 'worker') this.#becomeWorker(this.#mode.id);
    // Before starting: a SIGTERM during a slow start (bind retries) still shuts down cleanly.
    const removeHandlers = installSignalHandlers(this.#signals, this.logger, {
      shutdown: (graceful) => void this.shutdown({ graceful }),
      quit: () => void this.#quit(),
      upgrade: () => void this.#upgrade(),
    });
    try {
      await this.start();
    } catch (err) {
      removeHandlers();
      // One line naming what failed (`cannot listen on 127.0.0.1:80: permission denied (EACCES)`);
      // the error object, with its stack, only when debugging.
      this.logger.fatal(debugEnabled() ? { err } : {}, errorLine(err));
      if (notify) notifyLauncher(false);
      this.#exit(1);
      return idle;
    }
    const dropped = listenFds.closeUnclaimed();
    if (dropped.length > 0)
      this.logger.info({ sockets: dropped }, 'closed inherited listening sockets no service uses');
    if (notify) notifyLauncher(true);
    if (worker) reportWorkerReady();
    await this.#ctl.watch.wait();
    await this.#stopping;
    removeHandlers();
    this.logger.info('All services stopped, exiting');
    this.#exit(0);
    return idle;
  }

  #becomeWorker(id: number): void {
    groupState().becomeWorker(id);
    // The main process is gone (killed, crashed): finish what is in flight and leave, rather than
    // serve on unsupervised.
    process.once('disconnect', () => {
      if (this.#ctl.shuttingDown) return;
      this.logger.warn('main process gone; gracefully exiting');
      void this.shutdown({ graceful: true });
    });
  }

  /** SIGQUIT: Pingora's upgrade. A worker just terminates gracefully; the main process hands over. */
  async #quit(): Promise<void> {
    const entries = listenFds.entries();
    if (this.#mode.kind !== 'worker' && !this.#ctl.shuttingDown && entries.length > 0) {
      if (!fdPassingAvailable()) {
        this.logger.error(
          'cannot hand the listening sockets over: the native addon of @pingora-ts/core is not built (SIGUSR2 upgrades without it)',
        );
      } else {
        this.#setPhase('GracefulUpgradeTransferringFds');
        try {
          await sendListenFds(this.#conf.upgradeSock, entries, {
            retries: this.#conf.upgradeSockConnectAcceptMaxRetries,
          });
          listenFds.handedOver = true;
          this.logger.info({ sockets: entries.map(([a]) => a) }, 'listening sockets handed over');
          this.#setPhase('GracefulUpgradeCloseTimeout');
          await this.#closeTimeout();
        } catch (err) {
          this.logger.error({ err: debugEnabled() ? err : undefined }, errorLine(err));
        }
      }
    }
    await this.shutdown({ graceful: true });
  }

  /** Both servers accept for CLOSE_TIMEOUT_MS; a shutdown signal meanwhile cuts it short. */
  #closeTimeout(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, CLOSE_TIMEOUT_MS);
      const off = this.#ctl.watch.onShutdown(done);
      function done() {
        clearTimeout(timer);
        off();
        resolve();
      }
    });
  }

  /** SIGUSR2: start the successor with the sockets inherited; once it serves, terminate gracefully. */
  async #upgrade(): Promise<void> {
    if (this.#mode.kind === 'worker') {
      this.logger.warn('SIGUSR2 goes to the main process; ignored by a worker');
      return;
    }
    if (this.#upgrading || this.#ctl.shuttingDown || this.#phase !== 'Running') {
      this.logger.warn(
        { phase: this.#phase },
        'upgrade not started: the server is not running or already upgrading',
      );
      return;
    }
    this.#upgrading = true;
    const pid = await startSuccessor(listenFds, this.#conf, this.logger);
    this.#upgrading = false;
    if (pid === undefined) {
      this.logger.error('upgrade failed: the successor did not start; still serving');
      return;
    }
    listenFds.handedOver = true;
    this.logger.info({ successor: pid }, 'upgrade: successor is serving; gracefully exiting');
    await this.shutdown({ graceful: true });
  }
}
