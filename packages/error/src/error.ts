/**
 * `PingoraError`: one error shape for the whole framework. It says what happened (`type`), whose
 * fault it was (`source`), whether trying again may help (`retryType`), plus an optional
 * `context` string and a standard `cause`. `toString()` prints the cause chain exactly as
 * Pingora's `Display` does, so log lines match the Rust implementation.
 */
import { ErrorType } from './error-type.js';

/** Whose fault an error is. `Unset` prints as the empty string. */
export type ErrorSource = 'Upstream' | 'Downstream' | 'Internal' | 'Unset';

/** Named constants for {@link ErrorSource}. */
export const ErrorSource = {
  Upstream: 'Upstream',
  Downstream: 'Downstream',
  Internal: 'Internal',
  Unset: 'Unset',
} as const satisfies Record<ErrorSource, ErrorSource>;

/**
 * Retry decision: `true`/`false` when decided, `'ReusedOnly'` when it depends on whether the
 * connection that failed had been reused (a stale keep-alive connection is worth retrying once).
 */
export type RetryType = boolean | 'ReusedOnly';

const BRAND = Symbol.for('pingora-ts.error');

/**
 * True for any `PingoraError`, including instances made by another copy of this package
 * (two versions in one `node_modules` tree). Checks a `Symbol.for` brand, not the prototype.
 */
export function isPingoraError(value: unknown): value is PingoraError {
  return typeof value === 'object' && value !== null && (value as { [BRAND]?: true })[BRAND] === true;
}

function sourceStr(source: ErrorSource): string {
  return source === 'Unset' ? '' : source;
}

/**
 * The framework's error type.
 *
 * @example
 * ```ts
 * import { PingoraError, ErrorType } from '@pingora-ts/error';
 *
 * const e = PingoraError.because(ErrorType.ConnectRefused, 'peer 10.0.0.1:80', socketError).asUp();
 * e.setRetry(true);
 * String(e); // "Upstream ConnectRefused context: peer 10.0.0.1:80 cause: connect ECONNREFUSED …"
 * ```
 */
export class PingoraError extends Error {
  declare readonly [BRAND]: true;
  /** What happened. */
  type: ErrorType;
  /** Whose fault it is. */
  source: ErrorSource;
  /** The retry decision; read it through {@link PingoraError.retry}. */
  retryType: RetryType;
  /** Extra information about this occurrence, printed after `context:`. */
  context: string | undefined;

  /** Low-level constructor; prefer the static helpers. */
  constructor(type: ErrorType, source: ErrorSource = 'Unset', context?: string, cause?: unknown) {
    super(undefined, cause === undefined ? undefined : { cause });
    this.type = type;
    this.source = source;
    this.context = context;
    // A new error inherits the retry decision of a PingoraError cause (Pingora's rule).
    this.retryType = isPingoraError(cause) ? cause.retryType : false;
  }

  /** Works for instances from any copy of this package; subclasses keep normal `instanceof`. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this === PingoraError) return isPingoraError(value);
    return Function.prototype[Symbol.hasInstance].call(this, value);
  }

  /** An error of `type` with source `Unset`. */
  static new(type: ErrorType): PingoraError {
    return new PingoraError(type);
  }
  /** An error of `type` blamed on the upstream (origin). */
  static newUp(type: ErrorType): PingoraError {
    return new PingoraError(type, 'Upstream');
  }
  /** An error of `type` blamed on the downstream (client). */
  static newDown(type: ErrorType): PingoraError {
    return new PingoraError(type, 'Downstream');
  }
  /** An error of `type` blamed on this process. */
  static newIn(type: ErrorType): PingoraError {
    return new PingoraError(type, 'Internal');
  }
  /** `Custom(name)` with source `Unset` (Pingora's `new_str`). */
  static newStr(name: string): PingoraError {
    return new PingoraError(ErrorType.Custom(name));
  }
  /** An error of `type` explained by `context`, with no cause. */
  static explain(type: ErrorType, context: string): PingoraError {
    return new PingoraError(type, 'Unset', context);
  }
  /** An error of `type` with `context`, caused by `cause` (any thrown value). */
  static because(type: ErrorType, context: string, cause: unknown): PingoraError {
    return new PingoraError(type, 'Unset', context, cause);
  }
  /** Every field at once (Pingora's `create`). */
  static create(type: ErrorType, source: ErrorSource, context?: string, cause?: unknown): PingoraError {
    return new PingoraError(type, source, context, cause);
  }

  /** Whether the caller should try again. An undecided `ReusedOnly` answers `false`. */
  retry(): boolean {
    return this.retryType === true;
  }
  /** Set the retry decision; returns `this` for chaining. */
  setRetry(retry: RetryType): this {
    this.retryType = retry;
    return this;
  }
  /** Replace the cause. */
  setCause(cause: unknown): this {
    Object.defineProperty(this, 'cause', {
      value: cause,
      writable: true,
      configurable: true,
      enumerable: false,
    });
    return this;
  }
  /** Replace the context. */
  setContext(context: string): this {
    this.context = context;
    return this;
  }
  /** Blame the upstream; returns `this`. */
  asUp(): this {
    this.source = 'Upstream';
    return this;
  }
  /** Blame the downstream; returns `this`. */
  asDown(): this {
    this.source = 'Downstream';
    return this;
  }
  /** Blame this process; returns `this`. */
  asIn(): this {
    this.source = 'Internal';
    return this;
  }

  /**
   * Wrap this error in a new one of the same type and source carrying `context`, keeping the
   * retry decision (Pingora's `more_context`).
   */
  moreContext(context: string): PingoraError {
    const e = new PingoraError(this.type, this.source, context, this);
    e.retryType = this.retryType;
    return e;
  }

  /** The type of the innermost `PingoraError` in the cause chain. */
  rootType(): ErrorType {
    let e: PingoraError = this;
    while (isPingoraError(e.cause)) e = e.cause;
    return e.type;
  }

  /** The innermost cause: a foreign error if the chain ends in one, else the innermost `PingoraError`. */
  rootCause(): unknown {
    let e: PingoraError = this;
    while (isPingoraError(e.cause)) e = e.cause;
    return e.cause === undefined ? e : e.cause;
  }

  /** The stable code of {@link PingoraError.type}, e.g. `PGR_ERR_CONNECT_REFUSED`. */
  get code(): string {
    return this.type.code;
  }

  /** The chain exactly as Pingora's `Display` prints it (source and type repeat only when they change). */
  override toString(): string {
    let out = '';
    let prev: PingoraError | undefined;
    let e: PingoraError = this;
    for (;;) {
      if (prev === undefined || prev.source !== e.source) out += sourceStr(e.source);
      if (prev === undefined || !prev.type.equals(e.type)) out += ` ${e.type.name}`;
      if (e.context !== undefined) out += ` context: ${e.context}`;
      const cause = e.cause;
      if (cause === undefined) return out;
      if (!isPingoraError(cause)) return `${out} cause: ${foreignDisplay(cause)}`;
      out += ' cause: ';
      prev = e;
      e = cause;
    }
  }
}

function foreignDisplay(cause: unknown): string {
  if (cause instanceof Error) return cause.message;
  return String(cause);
}

Object.defineProperty(PingoraError.prototype, BRAND, { value: true });
Object.defineProperty(PingoraError.prototype, 'name', {
  value: 'PingoraError',
  writable: true,
  configurable: true,
});
// `message` is derived on demand, so building an error on a hot path costs no string work.
Object.defineProperty(PingoraError.prototype, 'message', {
  get(this: PingoraError) {
    return this.toString().trim();
  },
  configurable: true,
});
