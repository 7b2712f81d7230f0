/**
 * `Elapsed`: the error a timeout rejects with. Pingora's `Elapsed` displays as
 * "Timeout Elapsed"; here it is a {@link PingoraError} so it travels the framework's error paths
 * (cause chains, `rootType()`, retry decisions) like any other failure.
 */
import { ErrorType, isPingoraError, PingoraError } from '@pingora-ts/error';

const BRAND = Symbol.for('pingora-ts.timeout.elapsed');

/**
 * The {@link ErrorType} of every {@link Elapsed}: `Custom('Timeout Elapsed')`, so the error
 * prints exactly as Pingora's does. A plain timeout does not know what was being waited for;
 * callers that do (the proxy's read or connect paths) wrap it with `PingoraError.because(
 * ErrorType.ReadTimedout, …, elapsed)`, and `rootType()` still finds this type at the bottom.
 */
export const ElapsedType: ErrorType = ErrorType.Custom('Timeout Elapsed');

/**
 * True for any {@link Elapsed}, including one made by another copy of this package.
 *
 * @example
 * ```ts
 * try { await timeout(fetchUser(), 500); } catch (e) { if (isElapsed(e)) return cachedUser; throw e; }
 * ```
 */
export function isElapsed(value: unknown): value is Elapsed {
  return isPingoraError(value) && (value as { [BRAND]?: true })[BRAND] === true;
}

/**
 * The deadline passed before the work finished. `message` is `"Timeout Elapsed"` (Pingora's),
 * `type` is {@link ElapsedType}, `source` is `Unset` and `retry()` is `false`.
 *
 * @example
 * ```ts
 * import { timeout, Elapsed } from '@pingora-ts/timeout';
 *
 * await timeout(new Promise(() => {}), 100).catch((e) => {
 *   e instanceof Elapsed; // true
 *   e.message;            // 'Timeout Elapsed'
 * });
 * ```
 */
export class Elapsed extends PingoraError {
  declare readonly [BRAND]: true;

  /** `context`, if given, is printed after the type, as for any `PingoraError`. */
  constructor(context?: string) {
    super(ElapsedType, 'Unset', context);
  }

  /** Brand check for `Elapsed` itself (works across copies); plain prototype check for subclasses. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this === Elapsed) return isElapsed(value);
    return Function.prototype[Symbol.hasInstance].call(this, value);
  }
}

Object.defineProperty(Elapsed.prototype, BRAND, { value: true });
Object.defineProperty(Elapsed.prototype, 'name', { value: 'Elapsed', writable: true, configurable: true });
