/**
 * Errors meant to be read by the person running the server: one line, the thing at fault first,
 * then what is wrong, the way `nginx -t` reports. The `PingoraError` keeps its type and cause for
 * code; only its `message` is replaced by the line.
 */
import { getSystemErrorMap } from 'node:util';
import { type ErrorType, PingoraError } from '@pingora-ts/error';

/**
 * A `PingoraError` of `type` whose `message` is exactly `line` (its `toString()` keeps Pingora's
 * `Type context: … cause: …` form, and `cause` the underlying error).
 *
 * @example
 * ```ts
 * throw lineError(ErrorType.BindError, 'cannot listen on 127.0.0.1:80: permission denied (EACCES)', err);
 * ```
 */
export function lineError(type: ErrorType, line: string, cause?: unknown): PingoraError {
  const err = PingoraError.because(type, line, cause);
  // Own property over the prototype's derived getter: the line is what a person should see.
  Object.defineProperty(err, 'message', {
    value: line,
    writable: true,
    configurable: true,
    enumerable: false,
  });
  return err;
}

/**
 * An OS error as `address already in use (EADDRINUSE)`: the C library's wording and the code to
 * search for, without Node's `listen EADDRINUSE: … 127.0.0.1:80` repetition. Other errors give
 * their message.
 */
export function describeOsError(err: unknown): string {
  const e = err as NodeJS.ErrnoException | undefined;
  if (typeof e?.code === 'string') {
    const text = typeof e.errno === 'number' ? getSystemErrorMap().get(e.errno)?.[1] : undefined;
    if (text !== undefined) return `${text} (${e.code})`;
  }
  return err instanceof Error ? err.message : String(err);
}
