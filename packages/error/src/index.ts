/**
 * @module @pingora-ts/error
 *
 * Pingora's error model for TypeScript. Every failure in pingora-ts is a {@link PingoraError}
 * carrying a {@link ErrorType} (what happened), an {@link ErrorSource} (upstream, downstream or
 * internal), a retry decision and a cause chain. The proxy maps errors to responses from these
 * fields (502 for upstream failures, 400 for bad requests, a status for `HTTPStatus(code)`), and
 * the retry loop reads only the retry flag.
 *
 * @example
 * ```ts
 * import { ErrorType, PingoraError, orErr } from '@pingora-ts/error';
 *
 * function parsePort(s: string): number {
 *   const n = Number(s);
 *   if (!Number.isInteger(n)) throw PingoraError.explain(ErrorType.InternalError, `bad port ${s}`);
 *   return n;
 * }
 * const e = PingoraError.newUp(ErrorType.ConnectRefused).setRetry(true);
 * e.retry(); // true
 * ```
 */
export { ErrorType } from './error-type.js';
export type { BuiltinErrorName, ErrorTypeKind } from './error-type.js';
export { PingoraError, ErrorSource, isPingoraError } from './error.js';
export type { RetryType } from './error.js';
export {
  orErr,
  orErrWith,
  explainErr,
  orFail,
  errContext,
  okOrErr,
  okOrErrWith,
} from './helpers.js';
