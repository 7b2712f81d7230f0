/**
 * Function forms of Pingora's `OrErr` / `OkOrErr` / `Context` traits. Rust attaches them to
 * `Result` and `Option`; here they wrap a call (sync or async) or a possibly-missing value.
 */
import type { ErrorType } from './error-type.js';
import { ErrorType as ET } from './error-type.js';
import { isPingoraError, PingoraError } from './error.js';

type Attempt<T> = (() => T) | PromiseLike<T>;

function isThenable<T>(x: unknown): x is PromiseLike<T> {
  return (
    (typeof x === 'object' || typeof x === 'function') &&
    x !== null &&
    typeof (x as PromiseLike<T>).then === 'function'
  );
}

function run<T>(attempt: Attempt<T>, onError: (e: unknown) => PingoraError): T | Promise<Awaited<T>> {
  if (isThenable<T>(attempt)) {
    return Promise.resolve(attempt).then(undefined, (e: unknown) => {
      throw onError(e);
    }) as Promise<Awaited<T>>;
  }
  let value: T;
  try {
    value = attempt();
  } catch (e) {
    throw onError(e);
  }
  if (isThenable<T>(value)) return run(value, onError);
  return value;
}

/**
 * Run `attempt` (a function or a promise); if it fails, throw an error of `type` with `context`
 * whose cause is the original failure (Pingora's `or_err`).
 *
 * @example
 * ```ts
 * const conf = orErr(() => JSON.parse(text), ErrorType.InternalError, 'parsing conf.json');
 * const sock = await orErr(connect(addr), ErrorType.ConnectError, `connecting to ${addr}`);
 * ```
 */
export function orErr<T>(attempt: PromiseLike<T>, type: ErrorType, context: string): Promise<Awaited<T>>;
export function orErr<T>(attempt: () => T, type: ErrorType, context: string): T;
export function orErr<T>(attempt: Attempt<T>, type: ErrorType, context: string): T | Promise<Awaited<T>> {
  return run(attempt, (e) => PingoraError.because(type, context, e));
}

/** Like {@link orErr}, with the context computed only on failure (Pingora's `or_err_with`). */
export function orErrWith<T>(
  attempt: PromiseLike<T>,
  type: ErrorType,
  context: () => string,
): Promise<Awaited<T>>;
export function orErrWith<T>(attempt: () => T, type: ErrorType, context: () => string): T;
export function orErrWith<T>(
  attempt: Attempt<T>,
  type: ErrorType,
  context: () => string,
): T | Promise<Awaited<T>> {
  return run(attempt, (e) => PingoraError.because(type, context(), e));
}

/**
 * On failure, throw an error of `type` whose context is computed from the original failure,
 * which is *not* kept as a cause (Pingora's `explain_err`).
 */
export function explainErr<T>(
  attempt: PromiseLike<T>,
  type: ErrorType,
  explain: (e: unknown) => string,
): Promise<Awaited<T>>;
export function explainErr<T>(attempt: () => T, type: ErrorType, explain: (e: unknown) => string): T;
export function explainErr<T>(
  attempt: Attempt<T>,
  type: ErrorType,
  explain: (e: unknown) => string,
): T | Promise<Awaited<T>> {
  return run(attempt, (e) => PingoraError.explain(type, explain(e)));
}

/** On failure, throw `InternalError` with an empty context and the failure as cause (Pingora's `or_fail`). */
export function orFail<T>(attempt: PromiseLike<T>): Promise<Awaited<T>>;
export function orFail<T>(attempt: () => T): T;
export function orFail<T>(attempt: Attempt<T>): T | Promise<Awaited<T>> {
  return run(attempt, (e) => PingoraError.because(ET.InternalError, '', e));
}

/**
 * Add context to a failing `PingoraError` by wrapping it ({@link PingoraError.moreContext});
 * a foreign failure becomes the cause of an `InternalError` (Pingora's `err_context`).
 */
export function errContext<T>(attempt: PromiseLike<T>, context: () => string): Promise<Awaited<T>>;
export function errContext<T>(attempt: () => T, context: () => string): T;
export function errContext<T>(attempt: Attempt<T>, context: () => string): T | Promise<Awaited<T>> {
  return run(attempt, (e) =>
    isPingoraError(e) ? e.moreContext(context()) : PingoraError.because(ET.InternalError, context(), e),
  );
}

/**
 * Return `value` unless it is `null`/`undefined`; then throw an error of `type` explained by
 * `context` (Pingora's `OkOrErr::or_err` on `Option`).
 *
 * @example
 * ```ts
 * const host = okOrErr(req.headers.get('host'), ErrorType.InvalidHTTPHeader, 'no Host header');
 * ```
 */
export function okOrErr<T>(value: T | null | undefined, type: ErrorType, context: string): T {
  if (value === null || value === undefined) throw PingoraError.explain(type, context);
  return value;
}

/** Like {@link okOrErr} with the context computed only when the value is missing. */
export function okOrErrWith<T>(value: T | null | undefined, type: ErrorType, context: () => string): T {
  if (value === null || value === undefined) throw PingoraError.explain(type, context());
  return value;
}
