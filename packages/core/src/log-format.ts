/**
 * The human-readable form of a log record, for a person watching a terminal:
 *
 * ```
 * 05:48:01.123 INFO  origin-b becomes unhealthy  backend=127.0.0.1:7001
 * ```
 *
 * It is a small synchronous formatter rather than pino-pretty: pino-pretty runs as a transport
 * in a worker thread (records still in flight are lost when the server calls `process.exit`,
 * and a worker is a lot for a few lines a second) and would be a new dependency with its own
 * tree. Records are pino's JSON lines, so every pino feature (child bindings, serializers) still
 * applies; the cost, one `JSON.parse` per line, only exists when a person is watching.
 */

const LEVEL_NAMES: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

// pino's bookkeeping: shown in the line's head, or not useful to a person at a terminal.
const SKIP = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'v']);

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** `HH:MM:SS.mmm` in local time: what a person compares with the clock on their wall. */
export function formatLogTime(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

function formatValue(v: unknown): string {
  if (typeof v === 'string') return v === '' || /[\s"=]/.test(v) ? JSON.stringify(v) : v;
  if (typeof v === 'object' && v !== null) {
    // pino's error serializer: the message is what a person needs; the stack is in JSON mode.
    const err = v as { type?: unknown; message?: unknown };
    if (typeof err.message === 'string' && typeof err.type === 'string') return JSON.stringify(err.message);
    return JSON.stringify(v);
  }
  return String(v);
}

/**
 * One record (a parsed pino JSON line) as one readable line: local time, level, message, then
 * the other fields as `key=value` after two spaces. Strings with spaces are quoted; errors show
 * their message; objects print as JSON (addresses already are text, via their `toJSON`).
 *
 * @example
 * ```ts
 * formatLogRecord({ level: 30, time: Date.now(), msg: 'listening', addr: '0.0.0.0:6188' });
 * // "05:48:01.123 INFO  listening  addr=0.0.0.0:6188"
 * ```
 */
export function formatLogRecord(record: Record<string, unknown>): string {
  const level = typeof record.level === 'number' ? (LEVEL_NAMES[record.level] ?? `L${record.level}`) : 'INFO';
  const time = typeof record.time === 'number' ? record.time : Date.now();
  let line = `${formatLogTime(time)} ${level.padEnd(5)} ${typeof record.msg === 'string' ? record.msg : ''}`;
  const fields: string[] = [];
  for (const [k, v] of Object.entries(record)) {
    if (!SKIP.has(k) && v !== undefined) fields.push(`${k}=${formatValue(v)}`);
  }
  if (fields.length > 0) line += `  ${fields.join(' ')}`;
  return line;
}

/** Where a pretty destination writes finished lines (each ends in `\n`). */
export type LineSink = (line: string) => void;

/**
 * A synchronous pino destination that turns each JSON line into {@link formatLogRecord}'s text.
 * A line that is not JSON (it should not happen) is passed through untouched.
 *
 * @example
 * ```ts
 * const logger = pino({}, prettyDestination((line) => process.stdout.write(line)));
 * ```
 */
export function prettyDestination(write: LineSink): { write(chunk: string): boolean } {
  return {
    write(chunk: string): boolean {
      let text: string;
      try {
        text = formatLogRecord(JSON.parse(chunk) as Record<string, unknown>);
      } catch {
        text = chunk.replace(/\n$/, '');
      }
      write(`${text}\n`);
      return true;
    },
  };
}
