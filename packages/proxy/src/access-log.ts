/**
 * Access logs for the `logging` phase: one record per request with what a person debugging a
 * proxy asks first — what was asked, what was answered, which origin served it, and where the time
 * went (connect, TLS, first byte, total). Built only when called, from counters the proxy keeps
 * anyway, so a proxy that logs nothing pays nothing.
 */
import type { Logger } from '@pingora-ts/core';
import type { PingoraError } from '@pingora-ts/error';
import { failureText } from './phases.js';
import type { Session } from './session.js';

/** One request as {@link accessLogRecord} describes it. Durations are ms. */
export interface AccessLogRecord {
  /** Request method. */
  method: string;
  /** Request target as the client sent it (path and query). */
  path: string;
  /**
   * Status the client got: the response head's status, the error status when the proxy answered
   * with an error, 499 when the client went away first, 0 when nothing was sent.
   */
  status: number;
  /** Response body bytes written to the client. */
  bytesSent: number;
  /** Request body bytes read from the client. */
  bytesReceived: number;
  /** The client's address, when known. */
  client: string | undefined;
  /** The upstream of the latest attempt, when one was chosen. */
  upstream: string | undefined;
  /** The latest attempt used a pooled connection (connect and TLS times are then 0). */
  upstreamReused: boolean;
  /** TCP connect time of the latest attempt; `undefined` without an attempt. */
  upstreamConnect: number | undefined;
  /** TLS handshake time of the latest attempt (0 for plaintext). */
  upstreamTlsHandshake: number | undefined;
  /** Request sent → first response byte of the latest attempt; `undefined` when none arrived. */
  upstreamFirstByte: number | undefined;
  /** Connection asked for → upstream response done (or failed), latest attempt. */
  upstreamTotal: number | undefined;
  /**
   * What the cache did (`hit`, `miss`, `stale`, `revalidated`, `bypass`, …); `undefined` when the
   * request never enabled it.
   */
  cache: string | undefined;
  /** Time spent waiting on the cache lock, ms; `undefined` when the request did not wait. */
  cacheLockWait: number | undefined;
  /** Request head parsed → response finished (or now, if it is not). */
  total: number;
  /** Attempts after the first. */
  retries: number;
  /** The response head went out but the response was cut short by a failure. */
  aborted: boolean;
  /** The error that ended the request, as a person reads it (`requestFilter failed: boom`). */
  error: string | undefined;
}

// A cache that was never enabled says nothing; one that was says what it did.
function cacheStatus(session: Session): string | undefined {
  const c = session.cacheIfUsed;
  if (c === undefined) return undefined;
  const reason = c.noCacheReason();
  if (c.phase === 'Disabled' && reason === 'NeverEnabled') return undefined;
  return c.cachePhaseName();
}

function ms(n: number): number {
  return Math.round(n * 1000) / 1000;
}

/**
 * Describes the request of `session` for an access log or metrics; call it from the `logging`
 * phase, which receives the final `error` (if any). {@link accessLog} logs it as one line.
 *
 * @example
 * ```ts
 * const proxy: ProxyHttp = {
 *   upstreamPeer: () => new HttpPeer('127.0.0.1:3000', false, ''),
 *   logging(session, error) {
 *     const r = accessLogRecord(session, error);
 *     if (r.status >= 500) errors.inc({ upstream: r.upstream ?? 'none' });
 *     if (r.upstreamFirstByte !== undefined) firstByte.observe(r.upstreamFirstByte / 1000);
 *   },
 * };
 * ```
 */
export function accessLogRecord(session: Session, error?: PingoraError): AccessLogRecord {
  const req = session.reqHeader();
  const written = session.responseWritten();
  const peer = session.upstreamPeer;
  const client = session.clientAddr();
  const timing = session.timing;
  const end = timing.end > 0 ? timing.end : performance.now();
  const lockWait = session.cacheIfUsed?.lockDuration();
  // The attempt's numbers straight from the session (what `upstreamTiming()` would copy).
  const attempted = session.upstreamStart !== 0;
  return {
    method: req.method,
    path: req.uri,
    status: session.errorStatus !== 0 ? session.errorStatus : (written?.status ?? 0),
    bytesSent: session.bodyBytesSent,
    bytesReceived: session.bodyBytesRead,
    client: client === undefined ? undefined : String(client),
    upstream: !attempted || peer === undefined ? undefined : String(peer.address),
    upstreamReused: attempted && session.upstreamReused,
    upstreamConnect: attempted ? ms(session.upstreamConnectTime) : undefined,
    upstreamTlsHandshake: attempted ? ms(session.upstreamTlsTime) : undefined,
    upstreamFirstByte:
      !attempted || session.upstreamFirstByte < 0 ? undefined : ms(session.upstreamFirstByte),
    upstreamTotal: !attempted || session.upstreamTotal < 0 ? undefined : ms(session.upstreamTotal),
    cache: cacheStatus(session),
    cacheLockWait: lockWait === undefined ? undefined : ms(lockWait),
    total: ms(end - timing.start),
    retries: Math.max(0, session.tries - 1),
    aborted: session.responseAborted,
    error: error === undefined ? undefined : failureText(error),
  };
}

// `toFixed` with 2, 1 or 0 decimals (by size), in integer arithmetic: `toFixed` is a runtime call
// and was the costliest step of an access line.
function dur(n: number): string {
  if (n >= 0 && n < 10) {
    const c = Math.round(n * 100);
    const f = c % 100;
    return `${(c - f) / 100}.${f < 10 ? '0' : ''}${f}ms`;
  }
  if (n >= 10 && n < 100) {
    const c = Math.round(n * 10);
    const f = c % 10;
    return `${(c - f) / 10}.${f}ms`;
  }
  if (n >= 100 && n < 1e15) return `${Math.round(n)}ms`;
  // Negative, NaN or huge: not a duration we measure, written as before.
  return `${n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : n.toFixed(0)}ms`;
}

/**
 * One line for `record`, key=value after the request line:
 * `GET /api 200 bytes=512 time=3.10ms upstream=10.0.0.2:8080 connect=0.41ms ttfb=2.20ms upstream_time=2.60ms retries=0 client=10.0.0.9:51234`.
 * A reused connection shows `connect=reused`; a request that used the cache adds `cache=hit` (and
 * `cache_lock=…` when it waited on the lock); a failed request ends with `error="…"`.
 *
 * @example
 * ```ts
 * logging(session, error) {
 *   process.stdout.write(`${formatAccessLog(accessLogRecord(session, error))}\n`);
 * }
 * ```
 */
export function formatAccessLog(r: AccessLogRecord): string {
  let line = `${r.method} ${r.path} ${r.status} bytes=${r.bytesSent} time=${dur(r.total)}`;
  if (r.upstream !== undefined) {
    line += ` upstream=${r.upstream}`;
    if (r.upstreamReused) line += ' connect=reused';
    else if (r.upstreamConnect !== undefined) {
      line += ` connect=${dur(r.upstreamConnect)}`;
      if (r.upstreamTlsHandshake) line += ` tls=${dur(r.upstreamTlsHandshake)}`;
    }
    if (r.upstreamFirstByte !== undefined) line += ` ttfb=${dur(r.upstreamFirstByte)}`;
    if (r.upstreamTotal !== undefined) line += ` upstream_time=${dur(r.upstreamTotal)}`;
  }
  if (r.cache !== undefined) {
    line += ` cache=${r.cache}`;
    if (r.cacheLockWait !== undefined) line += ` cache_lock=${dur(r.cacheLockWait)}`;
  }
  line += ` retries=${r.retries}`;
  if (r.client !== undefined) line += ` client=${r.client}`;
  if (r.aborted) line += ' aborted';
  if (r.error !== undefined) line += ` error=${JSON.stringify(r.error)}`;
  return line;
}

/**
 * Logs one access line for the request of `session` at `info` ({@link formatAccessLog}'s line:
 * method, path, status, bytes sent, total time, upstream, connect time, time to first byte,
 * upstream time, retries, client) and returns the record. Only the line is logged, so pretty and
 * JSON logs alike stay one readable line per request; use {@link accessLogRecord} for fields.
 * Call it from the `logging` phase.
 *
 * @example
 * ```ts
 * const service = httpProxyService(server.configuration, {
 *   upstreamPeer: () => new HttpPeer('127.0.0.1:3000', false, ''),
 *   logging: (session, error) => {
 *     accessLog(server.logger, session, error);
 *   },
 * });
 * // INFO GET / 200 bytes=2 time=1.32ms upstream=127.0.0.1:3000 connect=0.25ms ttfb=0.90ms upstream_time=1.10ms retries=0 client=127.0.0.1:50312
 * ```
 */
export function accessLog(logger: Logger, session: Session, error?: PingoraError): AccessLogRecord {
  const r = accessLogRecord(session, error);
  logger.info(formatAccessLog(r));
  return r;
}
