/**
 * The demos' logger: core's own, printing to stdout, readable (`05:48:01.123 INFO  origin-b
 * becomes healthy  backend=127.0.0.1:7001`) when stdout is a terminal so a person watching the
 * main job can follow the health flips and retries, and pino's JSON lines otherwise (piped to a
 * file or to `jq`), the same choice `Server`'s default logger makes for stderr.
 */
import { createLogger, type Logger } from '@pingora-ts/core';

/**
 * Writes records at `level` and above through `print`, one line per record (no trailing newline).
 * `pretty` defaults to whether stdout is a terminal (or `$PINGORA_LOG_FORMAT`: `pretty`/`json`).
 */
export function consoleLogger(
  print: (line: string) => void = console.log,
  level = 'info',
  pretty?: boolean,
): Logger {
  return createLogger({
    level,
    // pid and hostname say nothing in a demo that runs in one process.
    base: {},
    pretty:
      pretty ?? (process.env.PINGORA_LOG_FORMAT === undefined ? process.stdout.isTTY === true : undefined),
    destination: (line) => print(line.replace(/\n$/, '')),
  });
}
