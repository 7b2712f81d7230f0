/**
 * The proxy's `node:diagnostics_channel` events, as undici publishes its own: one channel per
 * event point of a request and of each upstream attempt, with plain messages. Tracing, metrics or
 * debugging tools subscribe; a proxy nobody observes pays one `hasSubscribers` test per event
 * point and allocates nothing (every publish below is called only behind that test).
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import type { HttpPeer } from '@pingora-ts/core';
import type { PingoraError } from '@pingora-ts/error';
import type { RequestHeader, ResponseHeader } from '@pingora-ts/http';
import { type AccessLogRecord, accessLogRecord } from './access-log.js';
import type { Session } from './session.js';

/**
 * The channel names. Subscribe with `diagnostics_channel.subscribe(name, fn)` or
 * {@link subscribeProxyDiagnostics}. Per request: `requestStart`, then for each upstream attempt
 * `upstreamStart` → [`upstreamConnected` → `upstreamRequest` → `upstreamHeaders`] → exactly one
 * of `upstreamEnd` / `upstreamError`, then `requestEnd`.
 */
export const PROXY_CHANNELS = Object.freeze({
  requestStart: 'pingora-ts:proxy:request:start',
  requestEnd: 'pingora-ts:proxy:request:end',
  upstreamStart: 'pingora-ts:proxy:upstream:start',
  upstreamConnected: 'pingora-ts:proxy:upstream:connected',
  upstreamRequest: 'pingora-ts:proxy:upstream:request',
  upstreamHeaders: 'pingora-ts:proxy:upstream:headers',
  upstreamEnd: 'pingora-ts:proxy:upstream:end',
  upstreamError: 'pingora-ts:proxy:upstream:error',
} as const);

/**
 * `pingora-ts:proxy:request:start`: a request head was parsed and the proxy starts on it, before
 * `newCtx` and every phase.
 */
export interface ProxyRequestStartMessage {
  /** The request; the same object in every message about it (a key for a `WeakMap`). */
  readonly session: Session;
  /** Request method, as received. */
  readonly method: string;
  /** Request target as received (path and query). */
  readonly path: string;
  /** `Host` (HTTP/2: `:authority`), as received. */
  readonly host: string | undefined;
  /** `'1.0'`, `'1.1'` or `'2'`. */
  readonly httpVersion: string;
  /** The client connection is TLS. */
  readonly tls: boolean;
  /** A stale-while-revalidate refresh the proxy made itself, not a client's request. */
  readonly background: boolean;
}

/**
 * `pingora-ts:proxy:request:end`: the request is over — answered, failed, or its client gone —
 * after the error path and before the `logging` phase. Published once per request.
 */
export interface ProxyRequestEndMessage {
  /** The request (the object `request:start` carried). */
  readonly session: Session;
  /** The error that ended the request (what `logging` receives), if any. */
  readonly error: PingoraError | undefined;
  /**
   * What `accessLogRecord` gives: status the client got (499: it left), bytes, total time, the
   * latest attempt's upstream timing, cache status, retries, whether the response was cut short.
   */
  readonly record: AccessLogRecord;
}

/** Fields of every upstream attempt message. */
export interface ProxyUpstreamMessage {
  /** The request this attempt belongs to. */
  readonly session: Session;
  /** 1 for the first attempt, 2 for the first retry, … (`session.tries` at the time). */
  readonly attempt: number;
  /** The peer `upstreamPeer` returned for this attempt. */
  readonly peer: HttpPeer;
}

/**
 * `pingora-ts:proxy:upstream:start`: `upstreamPeer` chose `peer`; the proxy asks for a
 * connection next. Every attempt that gets here ends with `upstream:end` or `upstream:error`.
 */
export interface ProxyUpstreamStartMessage extends ProxyUpstreamMessage {
  /** `host:port`, `[ipv6]:port` or a socket path. */
  readonly address: string;
  readonly scheme: 'http' | 'https';
}

/** `pingora-ts:proxy:upstream:connected`: the attempt has a connection (pooled or new). */
export interface ProxyUpstreamConnectedMessage extends ProxyUpstreamMessage {
  /** A pooled connection served it. */
  readonly reused: boolean;
  /** TCP connect time, ms (0 when reused). */
  readonly connect: number;
  /** TLS handshake time, ms (0 when reused or plaintext). */
  readonly tlsHandshake: number;
  /** 1 for HTTP/1.x, 2 for an HTTP/2 stream. */
  readonly httpVersion: 1 | 2;
}

/**
 * `pingora-ts:proxy:upstream:request`: the upstream request head, after `upstreamRequestFilter`,
 * right before it is written. A subscriber may add fields to `request` (`traceparent`); they go
 * upstream with it. Subscribers must not throw (diagnostics_channel rethrows asynchronously).
 */
export interface ProxyUpstreamRequestMessage extends ProxyUpstreamMessage {
  /** The head about to go upstream (mutable). */
  readonly request: RequestHeader;
}

/** `pingora-ts:proxy:upstream:headers`: the origin's final response head arrived, before any response phase. */
export interface ProxyUpstreamHeadersMessage extends ProxyUpstreamMessage {
  /** The origin's status. */
  readonly status: number;
  /** Request sent → first response byte, ms; -1 when unknown. */
  readonly firstByte: number;
  /** The head as received (hop-by-hop fields removed); read it, do not change it. */
  readonly response: ResponseHeader;
}

/**
 * `pingora-ts:proxy:upstream:end`: the upstream's part of the attempt succeeded — the whole
 * response was received (the connection went back to the pool), or an upgraded tunnel closed cleanly.
 */
export interface ProxyUpstreamEndMessage extends ProxyUpstreamMessage {
  /** Connection asked for → now, ms. */
  readonly total: number;
  /** Response body bytes received from the origin so far in this request. */
  readonly bodyBytes: number;
}

/**
 * `pingora-ts:proxy:upstream:error`: the attempt failed before its upstream part was over. `stage`
 * `'connect'`: no connection (after `failToConnect`); `'request'`: after connecting (a request
 * phase, sending, the response, or the client went away). `error.retry()` says whether the proxy
 * may try again (`maxRetries` and an already sent response head can still stop it).
 */
export interface ProxyUpstreamErrorMessage extends ProxyUpstreamMessage {
  /** Why the attempt failed (after `failToConnect` / `errorWhileProxy`). */
  readonly error: PingoraError;
  /** Where it failed: before or after a connection was obtained. */
  readonly stage: 'connect' | 'request';
  /** Connection asked for → now, ms. */
  readonly total: number;
}

/** Handlers for {@link subscribeProxyDiagnostics}; each one is optional. */
export interface ProxyDiagnosticsHandlers {
  requestStart?(message: ProxyRequestStartMessage): void;
  requestEnd?(message: ProxyRequestEndMessage): void;
  upstreamStart?(message: ProxyUpstreamStartMessage): void;
  upstreamConnected?(message: ProxyUpstreamConnectedMessage): void;
  upstreamRequest?(message: ProxyUpstreamRequestMessage): void;
  upstreamHeaders?(message: ProxyUpstreamHeadersMessage): void;
  upstreamEnd?(message: ProxyUpstreamEndMessage): void;
  upstreamError?(message: ProxyUpstreamErrorMessage): void;
}

/**
 * Subscribes `handlers` to the proxy's channels; returns a function that unsubscribes them all.
 * Every proxy in the process publishes on the same channels.
 *
 * @example
 * ```ts
 * const stop = subscribeProxyDiagnostics({
 *   upstreamRequest: ({ request }) => request.insertHeader('x-request-start', `${Date.now()}`),
 *   upstreamError: ({ attempt, peer, error }) => console.warn(`attempt ${attempt} to ${peer.address}: ${error}`),
 * });
 * // later
 * stop();
 * ```
 */
export function subscribeProxyDiagnostics(handlers: ProxyDiagnosticsHandlers): () => void {
  const subs: Array<[string, (message: unknown) => void]> = [];
  for (const key of Object.keys(PROXY_CHANNELS) as Array<keyof typeof PROXY_CHANNELS>) {
    const fn = handlers[key] as ((message: unknown) => void) | undefined;
    if (fn === undefined) continue;
    if (typeof fn !== 'function') throw new TypeError(`subscribeProxyDiagnostics: ${key} must be a function`);
    const name = PROXY_CHANNELS[key];
    diagnosticsChannel.subscribe(name, fn);
    subs.push([name, fn]);
  }
  let active = true;
  return () => {
    if (!active) return;
    active = false;
    for (const [name, fn] of subs) diagnosticsChannel.unsubscribe(name, fn);
  };
}

// The channel objects the proxy tests and publishes on (module constants: one property read per test).
/** @internal */ export const requestStartChannel = diagnosticsChannel.channel(PROXY_CHANNELS.requestStart);
/** @internal */ export const requestEndChannel = diagnosticsChannel.channel(PROXY_CHANNELS.requestEnd);
/** @internal */ export const upstreamStartChannel = diagnosticsChannel.channel(PROXY_CHANNELS.upstreamStart);
/** @internal */ export const upstreamConnectedChannel = diagnosticsChannel.channel(
  PROXY_CHANNELS.upstreamConnected,
);
/** @internal */ export const upstreamRequestChannel = diagnosticsChannel.channel(
  PROXY_CHANNELS.upstreamRequest,
);
/** @internal */ export const upstreamHeadersChannel = diagnosticsChannel.channel(
  PROXY_CHANNELS.upstreamHeaders,
);
/** @internal */ export const upstreamEndChannel = diagnosticsChannel.channel(PROXY_CHANNELS.upstreamEnd);
/** @internal */ export const upstreamErrorChannel = diagnosticsChannel.channel(PROXY_CHANNELS.upstreamError);

// Publishers: called only when the channel has subscribers, so the messages below are built for them only.

/** @internal */
export function publishRequestStart(session: Session): void {
  const req = session.reqHeader();
  const d = session.downstream;
  const message: ProxyRequestStartMessage = {
    session,
    method: req.method,
    path: req.uri,
    host: req.headers.get('host'),
    httpVersion: d.httpVersion === 2 ? '2' : req.version,
    tls: d.digest().sslDigest !== undefined,
    background: session.refreshPermit !== undefined,
  };
  requestStartChannel.publish(message);
}

/** @internal */
export function publishRequestEnd(session: Session, error: PingoraError | undefined): void {
  const message: ProxyRequestEndMessage = { session, error, record: accessLogRecord(session, error) };
  requestEndChannel.publish(message);
}

/** @internal */
export function publishUpstreamStart(session: Session, peer: HttpPeer): void {
  const message: ProxyUpstreamStartMessage = {
    session,
    attempt: session.tries,
    peer,
    address: String(peer.address),
    scheme: peer.scheme,
  };
  upstreamStartChannel.publish(message);
}

/** @internal */
export function publishUpstreamConnected(session: Session, peer: HttpPeer, httpVersion: 1 | 2): void {
  const message: ProxyUpstreamConnectedMessage = {
    session,
    attempt: session.tries,
    peer,
    reused: session.upstreamReused,
    connect: session.upstreamConnectTime,
    tlsHandshake: session.upstreamTlsTime,
    httpVersion,
  };
  upstreamConnectedChannel.publish(message);
}

/** @internal */
export function publishUpstreamRequest(session: Session, peer: HttpPeer, request: RequestHeader): void {
  const message: ProxyUpstreamRequestMessage = { session, attempt: session.tries, peer, request };
  upstreamRequestChannel.publish(message);
}

/** @internal */
export function publishUpstreamHeaders(session: Session, peer: HttpPeer, response: ResponseHeader): void {
  const message: ProxyUpstreamHeadersMessage = {
    session,
    attempt: session.tries,
    peer,
    status: response.status,
    firstByte: session.upstreamFirstByte,
    response,
  };
  upstreamHeadersChannel.publish(message);
}

/**
 * @internal The upstream part of an attempt is over: `upstream:end` without an error, else
 * `upstream:error`. The attempt calls it once (see `UpstreamAttempt.upstreamOver`).
 */
export function publishUpstreamOver(
  session: Session,
  peer: HttpPeer,
  error: PingoraError | undefined,
  stage: 'connect' | 'request',
): void {
  const total = performance.now() - session.upstreamStart;
  if (error === undefined) {
    if (!upstreamEndChannel.hasSubscribers) return;
    const message: ProxyUpstreamEndMessage = {
      session,
      attempt: session.tries,
      peer,
      total,
      bodyBytes: session.upstreamBodyBytesReceived,
    };
    upstreamEndChannel.publish(message);
    return;
  }
  if (!upstreamErrorChannel.hasSubscribers) return;
  const message: ProxyUpstreamErrorMessage = { session, attempt: session.tries, peer, error, stage, total };
  upstreamErrorChannel.publish(message);
}
