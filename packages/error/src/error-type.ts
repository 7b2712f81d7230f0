/**
 * The kinds of failure a Pingora error can describe, one value per variant of Pingora's
 * `ErrorType`. Built-in kinds are singletons, so `e.type === ErrorType.ConnectTimedout` works;
 * the parameterised kinds (`HTTPStatus`, `Custom`, `CustomCode`) compare with {@link ErrorType.equals}.
 */

const BUILTIN_NAMES = [
  'ConnectTimedout',
  'ConnectRefused',
  'ConnectNoRoute',
  'TLSWantX509Lookup',
  'TLSHandshakeFailure',
  'TLSHandshakeTimedout',
  'InvalidCert',
  'HandshakeError',
  'ConnectError',
  'BindError',
  'AcceptError',
  'SocketError',
  'ConnectProxyFailure',
  'InvalidHTTPHeader',
  'H1Error',
  'H2Error',
  'H2Downgrade',
  'InvalidH2',
  'ReadError',
  'WriteError',
  'ReadTimedout',
  'WriteTimedout',
  'ConnectionClosed',
  'FileOpenError',
  'FileCreateError',
  'FileReadError',
  'FileWriteError',
  'InternalError',
  'UnknownError',
] as const;

/** Name of a built-in (parameterless) error kind. */
export type BuiltinErrorName = (typeof BUILTIN_NAMES)[number];

/** Which family an {@link ErrorType} belongs to. */
export type ErrorTypeKind = 'builtin' | 'HTTPStatus' | 'Custom' | 'CustomCode';

// "TLSHandshakeFailure" → "TLS_HANDSHAKE_FAILURE", "InvalidH2" → "INVALID_H2"
function screamingSnake(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toUpperCase();
}

/**
 * One kind of error. `name` is Pingora's `as_str()`: the variant name, without the status for
 * `HTTPStatus`, and the user's string for `Custom`/`CustomCode`. `code` is a stable
 * machine-readable string (`PGR_ERR_CONNECT_TIMEDOUT`) suitable for logs and metrics labels.
 *
 * @example
 * ```ts
 * ErrorType.HTTPStatus(404).status; // 404
 * ErrorType.ConnectTimedout.code;   // 'PGR_ERR_CONNECT_TIMEDOUT'
 * ErrorType.Custom('rate limited').name; // 'rate limited'
 * ```
 */
export class ErrorType {
  /** The variant name, or the custom name (Pingora's `as_str()`). */
  readonly name: string;
  /** Which family this kind belongs to. */
  readonly kind: ErrorTypeKind;
  /** HTTP status for `HTTPStatus`, user code for `CustomCode`, else `undefined`. */
  readonly status: number | undefined;
  /** Stable, machine-readable code, e.g. `PGR_ERR_READ_TIMEDOUT`. */
  readonly code: string;

  private constructor(name: string, kind: ErrorTypeKind, status: number | undefined, code: string) {
    this.name = name;
    this.kind = kind;
    this.status = status;
    this.code = code;
    Object.freeze(this);
  }

  static readonly ConnectTimedout = ErrorType.builtin('ConnectTimedout');
  static readonly ConnectRefused = ErrorType.builtin('ConnectRefused');
  static readonly ConnectNoRoute = ErrorType.builtin('ConnectNoRoute');
  static readonly TLSWantX509Lookup = ErrorType.builtin('TLSWantX509Lookup');
  static readonly TLSHandshakeFailure = ErrorType.builtin('TLSHandshakeFailure');
  static readonly TLSHandshakeTimedout = ErrorType.builtin('TLSHandshakeTimedout');
  static readonly InvalidCert = ErrorType.builtin('InvalidCert');
  static readonly HandshakeError = ErrorType.builtin('HandshakeError');
  static readonly ConnectError = ErrorType.builtin('ConnectError');
  static readonly BindError = ErrorType.builtin('BindError');
  static readonly AcceptError = ErrorType.builtin('AcceptError');
  static readonly SocketError = ErrorType.builtin('SocketError');
  static readonly ConnectProxyFailure = ErrorType.builtin('ConnectProxyFailure');
  static readonly InvalidHTTPHeader = ErrorType.builtin('InvalidHTTPHeader');
  static readonly H1Error = ErrorType.builtin('H1Error');
  static readonly H2Error = ErrorType.builtin('H2Error');
  static readonly H2Downgrade = ErrorType.builtin('H2Downgrade');
  static readonly InvalidH2 = ErrorType.builtin('InvalidH2');
  static readonly ReadError = ErrorType.builtin('ReadError');
  static readonly WriteError = ErrorType.builtin('WriteError');
  static readonly ReadTimedout = ErrorType.builtin('ReadTimedout');
  static readonly WriteTimedout = ErrorType.builtin('WriteTimedout');
  static readonly ConnectionClosed = ErrorType.builtin('ConnectionClosed');
  static readonly FileOpenError = ErrorType.builtin('FileOpenError');
  static readonly FileCreateError = ErrorType.builtin('FileCreateError');
  static readonly FileReadError = ErrorType.builtin('FileReadError');
  static readonly FileWriteError = ErrorType.builtin('FileWriteError');
  static readonly InternalError = ErrorType.builtin('InternalError');
  static readonly UnknownError = ErrorType.builtin('UnknownError');

  /** Every built-in kind, in Pingora's declaration order. */
  static get builtins(): readonly ErrorType[] {
    return BUILTINS;
  }

  /** The built-in kind with this name, or `undefined`. */
  static fromName(name: string): ErrorType | undefined {
    return BY_NAME.get(name);
  }

  /**
   * An HTTP status to answer with; `failToProxy`'s default responds with exactly this code.
   * Statuses 100–599 only, so a typo cannot produce an invalid status line.
   */
  static HTTPStatus(status: number): ErrorType {
    if (!Number.isInteger(status) || status < 100 || status > 599) {
      throw new RangeError(`ErrorType.HTTPStatus: status must be an integer in 100..599, got ${status}`);
    }
    return new ErrorType('HTTPStatus', 'HTTPStatus', status, 'PGR_ERR_HTTP_STATUS');
  }

  /** A user-defined kind; `name` is what `toString()` prints. */
  static Custom(name: string): ErrorType {
    return new ErrorType(name, 'Custom', undefined, 'PGR_ERR_CUSTOM');
  }

  /** A user-defined kind with a numeric code (e.g. `CustomCode('non 200 code', 503)`). */
  static CustomCode(name: string, code: number): ErrorType {
    return new ErrorType(name, 'CustomCode', code, 'PGR_ERR_CUSTOM_CODE');
  }

  private static builtin(name: BuiltinErrorName): ErrorType {
    return new ErrorType(name, 'builtin', undefined, `PGR_ERR_${screamingSnake(name)}`);
  }

  /** Structural equality: same family, name and status. Works across copies of this package. */
  equals(other: ErrorType | undefined | null): boolean {
    if (other === this) return true;
    if (other == null) return false;
    return other.kind === this.kind && other.name === this.name && other.status === this.status;
  }

  /** Pingora's `as_str()`. */
  toString(): string {
    return this.name;
  }
}

const BUILTINS: readonly ErrorType[] = Object.freeze(
  BUILTIN_NAMES.map((n) => (ErrorType as unknown as Record<string, ErrorType>)[n]!),
);
const BY_NAME = new Map(BUILTINS.map((t) => [t.name, t]));
