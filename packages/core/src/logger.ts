/**
 * The narrow logging contract of pingora-ts. Library code depends on {@link Logger}, a subset of
 * pino's API, so any pino instance (or a thin adapter over another logger) can be passed in; pino
 * itself is only the default that {@link createLogger} builds.
 *
 * Hot paths must not build log strings or objects for a disabled level. Guard them with
 * {@link levelEnabled} (which uses `logger.isLevelEnabled` when present, else compares `level`):
 *
 * ```ts
 * if (levelEnabled(logger, 'debug')) logger.debug({ peer: peer.address }, 'reusing connection');
 * ```
 */
import pino from 'pino';
import { type LineSink, prettyDestination } from './log-format.js';

/** The levels a {@link Logger} writes, lowest first. */
export type LevelName = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/** pino's numeric values for each level; `silent` is above every level. */
const LEVEL_VALUES: Record<string, number> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
  silent: Number.POSITIVE_INFINITY,
};

/** A log method with pino's two call shapes: `(obj, msg?)` merges `obj` into the record. */
export interface LogFn {
  (obj: object, msg?: string): void;
  (msg: string): void;
}

/**
 * The logger every pingora-ts package accepts, defined once here: packages above core import it
 * from `@pingora-ts/core`. A pino `Logger` satisfies it as is. `@pingora-ts/test-utils`, which
 * depends on no workspace package, mirrors it as `TestLogger`; the load-balancing tests pass that
 * logger where this type is required, so the two cannot drift apart unnoticed.
 *
 * @example
 * ```ts
 * import pino from 'pino';
 * const logger: Logger = pino({ level: 'debug' });
 * logger.child({ service: 'proxy' }).info({ port: 6188 }, 'listening');
 * ```
 */
export interface Logger {
  /** Current minimum level (`'info'`, `'debug'`, …, or `'silent'`). */
  level: string;
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  fatal: LogFn;
  /** A logger that adds `bindings` to every record (per service, per request). */
  child(bindings: Record<string, unknown>): Logger;
  /** pino's cheap level check; optional so that minimal adapters can omit it. */
  isLevelEnabled?(level: string): boolean;
}

/**
 * Whether `logger` writes records at `level`. Use it to skip building a log record on a hot path.
 * Unknown levels count as disabled.
 */
export function levelEnabled(logger: Logger, level: LevelName): boolean {
  if (logger.isLevelEnabled !== undefined) return logger.isLevelEnabled(level);
  const want = LEVEL_VALUES[level];
  const min = LEVEL_VALUES[logger.level];
  return want !== undefined && min !== undefined && want >= min;
}

/** Options of {@link createLogger}. */
export interface CreateLoggerOptions {
  /** Minimum level. Default: `$PINGORA_LOG_LEVEL`, else `'info'`. */
  level?: string | undefined;
  /**
   * File to append records to (the conf's `error_log`); the directory is created if needed.
   * Default: stderr.
   */
  errorLog?: string | null | undefined;
  /** Bindings added to every record, e.g. `{ name: 'my-proxy' }`. */
  base?: Record<string, unknown> | undefined;
  /**
   * Where lines go when there is no `errorLog`: file descriptor 2 (stderr, the default), 1
   * (stdout), or a function receiving each finished line.
   */
  destination?: 1 | 2 | LineSink | undefined;
  /**
   * Human-readable lines (`05:48:01.123 INFO  listening  addr=0.0.0.0:6188`) instead of JSON.
   * Default: `$PINGORA_LOG_FORMAT` (`pretty` or `json`) if set, else whether the stream written
   * to is a terminal; a file or a function gets JSON.
   */
  pretty?: boolean | undefined;
}

function isTerminal(destination: 1 | 2 | LineSink): boolean {
  if (destination === 1) return process.stdout.isTTY === true;
  if (destination === 2) return process.stderr.isTTY === true;
  return false;
}

function wantPretty(opts: CreateLoggerOptions, toFile: boolean): boolean {
  if (opts.pretty !== undefined) return opts.pretty;
  const env = process.env.PINGORA_LOG_FORMAT;
  if (env === 'pretty' || env === 'json') return env === 'pretty';
  return !toFile && isTerminal(opts.destination ?? 2);
}

const noop = (): void => {};

/** A logger that drops everything: for tests and for embedders who log elsewhere. */
export const noopLogger: Logger = {
  level: 'silent',
  trace: noop,
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  fatal: noop,
  child: () => noopLogger,
  isLevelEnabled: () => false,
};

/**
 * A pino logger writing to stderr (or `destination`), or to the `errorLog` file: JSON lines for
 * machines, or readable lines for a person at a terminal (see `pretty`).
 *
 * Writes are synchronous (pino's `destination` default): server logs are low volume, and a
 * synchronous stream loses nothing when the server calls `process.exit` after shutdown.
 * An unknown level (say a typo in `PINGORA_LOG_LEVEL`) falls back to `'info'` with a warning
 * rather than stopping the server.
 *
 * @example
 * ```ts
 * const logger = createLogger({ level: 'debug', errorLog: '/var/log/pingora/error.log' });
 * logger.info({ addr: '0.0.0.0:6188' }, 'listening');
 * const forPeople = createLogger({ pretty: true, destination: 1 }); // readable, on stdout
 * ```
 */
export function createLogger(opts: CreateLoggerOptions = {}): Logger {
  const wanted = opts.level ?? process.env.PINGORA_LOG_LEVEL ?? 'info';
  const level = wanted in LEVEL_VALUES ? wanted : 'info';
  const toFile = opts.errorLog != null && opts.errorLog !== '';
  const target = opts.destination ?? 2;
  const raw =
    toFile || typeof target === 'number'
      ? pino.destination(
          toFile
            ? { dest: opts.errorLog as string, sync: true, mkdir: true, append: true }
            : { dest: target as 1 | 2, sync: true },
        )
      : undefined;
  const write: LineSink = raw === undefined ? (target as LineSink) : (line) => raw.write(line);
  const dest = wantPretty(opts, toFile) ? prettyDestination(write) : (raw ?? { write });
  const logger = pino({ level, ...(opts.base === undefined ? {} : { base: opts.base }) }, dest);
  if (level !== wanted) logger.warn({ requested: wanted }, 'unknown log level, using info');
  return logger;
}

let shared: Logger | undefined;

/**
 * The process-wide fallback logger (stderr, level from `$PINGORA_LOG_LEVEL`, readable lines when
 * stderr is a terminal, JSON otherwise), created on first use. Services that were given no logger
 * and run outside a `Server` report here.
 */
export function defaultLogger(): Logger {
  shared ??= createLogger();
  return shared;
}
