/**
 * A human-readable `Logger` for the demos: one line per record, `HH:MM:SS.mmm LEVEL message
 * key=value`, instead of pino's JSON, so a person watching the main job can read the health
 * flips and retries as they happen.
 */
import type { Logger } from '@pingora-ts/core';

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;

function field(v: unknown): string {
  if (v instanceof Error) return JSON.stringify(v.message);
  if (typeof v === 'string') return /\s/.test(v) ? JSON.stringify(v) : v;
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/** Writes records at `level` and above through `print`. */
export function consoleLogger(print: (line: string) => void = console.log, level = 'info'): Logger {
  const min = LEVELS.indexOf(level as (typeof LEVELS)[number]);
  const make =
    (name: (typeof LEVELS)[number]) =>
    (a: unknown, b?: unknown): void => {
      if (LEVELS.indexOf(name) < min) return;
      const time = new Date().toISOString().slice(11, 23);
      let msg = typeof a === 'string' ? a : typeof b === 'string' ? b : '';
      if (typeof a === 'object' && a !== null) {
        const extra = Object.entries(a)
          .filter(([k]) => k !== 'service')
          .map(([k, v]) => `${k}=${field(v)}`);
        if (extra.length > 0) msg += ` ${extra.join(' ')}`;
      }
      print(`${time} ${name.toUpperCase().padEnd(5)} ${msg}`);
    };
  const logger: Logger = {
    level,
    trace: make('trace'),
    debug: make('debug'),
    info: make('info'),
    warn: make('warn'),
    error: make('error'),
    fatal: make('fatal'),
    child: () => logger,
    isLevelEnabled: (l) => LEVELS.indexOf(l as (typeof LEVELS)[number]) >= min,
  };
  return logger;
}
