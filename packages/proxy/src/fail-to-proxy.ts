/**
 * Pingora's default error phases: `error_while_proxy` (may the attempt be retried) and
 * `fail_to_proxy` (errors to responses). The `fail_to_proxy` mapping is Pingora's, with two changes users of Node
 * proxies ask for: an upstream *timeout* answers 504 (as nginx does) instead of 502, and a client
 * that went away is recorded as 499 in logs (nothing can be sent to it).
 */
import { ErrorType, type PingoraError } from '@pingora-ts/error';
import type { HttpPeer } from '@pingora-ts/core';
import type { FailToProxy } from './proxy-http.js';
import type { Session } from './session.js';

const TIMEOUTS = new Set<ErrorType>([
  ErrorType.ConnectTimedout,
  ErrorType.ReadTimedout,
  ErrorType.WriteTimedout,
  ErrorType.TLSHandshakeTimedout,
]);
const CLIENT_GONE = new Set<ErrorType>([
  ErrorType.WriteError,
  ErrorType.ReadError,
  ErrorType.ConnectionClosed,
]);

/** nginx's non-standard status for "client closed request", used in logs only. */
export const CLIENT_CLOSED_REQUEST = 499;

/**
 * The status for `error`: `HTTPStatus(code)` → code; upstream timeout → 504; other upstream → 502;
 * downstream read timeout → 408; downstream read/write error, write timeout or closed → 0 (no
 * response possible); other downstream → 400; else 500.
 */
export function errorStatus(error: PingoraError): number {
  const t = error.type;
  if (t.kind === 'HTTPStatus') return t.status!;
  switch (error.source) {
    case 'Upstream':
      return TIMEOUTS.has(error.rootType()) || TIMEOUTS.has(t) ? 504 : 502;
    case 'Downstream':
      if (t === ErrorType.ReadTimedout) return 408;
      // A client cut for not reading its response (write timeout, minimum send rate) is gone too.
      return CLIENT_GONE.has(t) || t === ErrorType.WriteTimedout ? 0 : 400;
    default:
      return 500;
  }
}

/** Pingora's default `fail_to_proxy`: answer with {@link errorStatus} and close the connection. */
export function defaultFailToProxy(session: Session, error: PingoraError): FailToProxy {
  const code = errorStatus(error);
  if (code > 0) {
    session.setKeepalive(undefined);
    session.respondError(code);
  }
  return { errorCode: code, canReuseDownstream: false };
}

/** Pingora's default `error_while_proxy`. */
export function defaultErrorWhileProxy(
  peer: HttpPeer,
  session: Session,
  error: PingoraError,
  clientReused: boolean,
): PingoraError {
  const e = error.moreContext(`Peer: ${peer}`);
  if (e.retryType === 'ReusedOnly') e.setRetry(clientReused && !session.body.truncated);
  return e;
}
