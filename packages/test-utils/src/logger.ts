/**
 * A logger that records what it is given, for tests that assert on log output. It satisfies
 * `Logger` of @pingora-ts/core structurally: this package depends on no workspace package, so any
 * of them can use it in its tests without a dependency cycle.
 */

/** pino's two call shapes, as `LogFn` of @pingora-ts/core. */
export interface TestLogFn {
  (obj: object, msg?: string): void;
  (msg: string): void;
}

/** The shape of `Logger` of @pingora-ts/core. */
export interface TestLogger {
  level: string;
  trace: TestLogFn;
  debug: TestLogFn;
  info: TestLogFn;
  warn: TestLogFn;
  error: TestLogFn;
  fatal: TestLogFn;
  child(bindings: Record<string, unknown>): TestLogger;
  isLevelEnabled?(level: string): boolean;
}

/** One line captured by {@link memoryLogger}. */
export interface CapturedLog {
  level: string;
  msg: string;
  obj?: unknown;
}

/**
 * A logger at level `trace` that appends every call to `lines`; children share the parent's lines
 * (bindings are not recorded).
 *
 * @example
 * ```ts
 * const logger = memoryLogger();
 * new Backends(discovery, { logger });
 * expect(logger.lines.some((l) => l.level === 'warn')).toBe(true);
 * ```
 */
export function memoryLogger(lines: CapturedLog[] = []): TestLogger & { lines: CapturedLog[] } {
  const make = (level: string) =>
    ((a: unknown, b?: unknown) => {
      if (typeof a === 'string') lines.push({ level, msg: a });
      else lines.push({ level, msg: typeof b === 'string' ? b : '', obj: a });
    }) as TestLogFn;
  const logger = {
    level: 'trace',
    lines,
    trace: make('trace'),
    debug: make('debug'),
    info: make('info'),
    warn: make('warn'),
    error: make('error'),
    fatal: make('fatal'),
    child: () => logger,
  };
  return logger;
}
