/**
 * How the server reports a fatal error to the person who started it: one line, the thing at
 * fault first (`conf.yaml:3: treads: unknown key (did you mean "threads"?)`), as `nginx -t` does.
 * A stack trace helps whoever debugs pingora-ts, not whoever runs it, so it is printed only when
 * `PINGORA_TS_DEBUG` is set (to anything but `''` or `0`).
 */
import { isPingoraError } from '@pingora-ts/error';

/** The environment variable that adds stack traces to fatal errors. */
export const DEBUG_ENV = 'PINGORA_TS_DEBUG';

/** Whether `PINGORA_TS_DEBUG` asks for stack traces. */
export function debugEnabled(): boolean {
  const v = process.env[DEBUG_ENV];
  return v !== undefined && v !== '' && v !== '0';
}

/**
 * The one line to show for `err`: its message, newlines folded. A `PingoraError` built for a
 * person (conf, bind) has that line as its message; others get Pingora's `Type context: …` form.
 */
export function errorLine(err: unknown): string {
  const text = isPingoraError(err) || err instanceof Error ? err.message : String(err);
  return text.replace(/\s*\n\s*/g, ' ');
}

/** The stack of `err` and of each cause, for {@link DEBUG_ENV}. */
export function errorDetail(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let depth = 0; e !== undefined && depth < 8; depth++) {
    parts.push(e instanceof Error ? (e.stack ?? String(e)) : String(e));
    e = e instanceof Error ? e.cause : undefined;
  }
  return parts.join('\ncaused by: ');
}

/**
 * Write {@link errorLine} of `err` to stderr (plus {@link errorDetail} under `PINGORA_TS_DEBUG`).
 * For errors found before there is a logger to use: options and the configuration.
 */
export function printFatal(
  err: unknown,
  write: (text: string) => void = (t) => process.stderr.write(t),
): void {
  write(`${errorLine(err)}\n`);
  if (debugEnabled()) write(`${errorDetail(err)}\n`);
}
