/**
 * What an upstream HTTP exchange offers, whatever the protocol underneath (the twin of
 * server-session.ts for the origin side). `H1ClientSession` and `H2ClientSession` implement
 * {@link UpstreamSession}; the proxy's exchange, the pull-style `ClientSession` and the cache tee
 * implement {@link UpstreamResponseHandler}. The protocol layer builds the `ResponseHeader` once
 * (version `'1.0'`/`'1.1'` with the origin's reason phrase, or `'2'`), so nothing above it branches
 * on the protocol to read a response.
 */
import type { Socket } from 'node:net';
import type { PingoraError } from '@pingora-ts/error';
import type { RequestHeader, ResponseHeader } from '@pingora-ts/http';
import type { ConnectTiming } from '../upstream/connect.js';
import type { IoTimeouts } from './io-timers.js';

/**
 * Whether a message has a body and how its length is known: `none`; `length` (Content-Length
 * is set and the body is exactly that long); `stream` (length unknown: on HTTP/1.1 chunked, or
 * until the connection closes for a response; on HTTP/2 DATA frames until END_STREAM).
 */
export type BodyMode = 'none' | 'length' | 'stream';

/** How a request body is sent: a {@link BodyMode}. The name predates responses using it. */
export type RequestBodyMode = BodyMode;

/**
 * The protocol-neutral facts of a final response head besides its fields. The record belongs to
 * the session, which may rewrite it at its next exchange (HTTP/1.1 keeps one per connection, as
 * {@link ExchangeTiming}, so a head costs nothing beyond its `ResponseHeader`): copy what must
 * outlive the exchange.
 */
export interface UpstreamResponseFacts {
  /** How the body is delimited; `none` also for a HEAD request, a 204 or a 304. */
  body: BodyMode;
  /** Declared length when `body` is `length`, else -1. */
  contentLength: number;
  /** The response switches protocols (101): the connection goes to `onUpgrade` after it. */
  upgrade: boolean;
}

/** A fresh {@link UpstreamResponseFacts} (no body, no length, no upgrade). */
export function responseFacts(): UpstreamResponseFacts {
  return { body: 'none', contentLength: -1, upgrade: false };
}

/**
 * Receives one response. Calls arrive in order: informational*, header, body*, trailers?, end | error.
 *
 * @example
 * ```ts
 * const handler: UpstreamResponseHandler = {
 *   onResponseHeader(resp, facts) { console.log(resp.status, resp.version, facts.body); },
 *   onResponseBody(chunk) { process.stdout.write(chunk); },
 *   onResponseTrailers() {},
 *   onResponseEnd() { connector.releaseHttpSession(conn, peer); },
 *   onError(e) { console.error(e.message); },
 * };
 * conn.sendRequest(req, handler, 'none', peer.options);
 * ```
 */
export interface UpstreamResponseHandler {
  /** A 1xx response other than 101 (e.g. 103 Early Hints). */
  onInformational?(resp: ResponseHeader): void;
  /**
   * The final response head, ready to use (HTTP/1.x fields keep their case; HTTP/2 ones are
   * lowercase, no-case). `facts` belongs to the session: see {@link UpstreamResponseFacts}.
   */
  onResponseHeader(resp: ResponseHeader, facts: UpstreamResponseFacts): void;
  /** A piece of the (de-chunked) body. Call `pauseResponse()` to apply backpressure. */
  onResponseBody(chunk: Buffer): void;
  /** Trailer fields of the response (flat raw array). */
  onResponseTrailers(rawTrailers: string[]): void;
  /** The response is complete. */
  onResponseEnd(): void;
  /** The exchange failed; no further calls follow. */
  onError(error: PingoraError): void;
  /** After a 101: the raw socket and any bytes that followed the head now belong to the handler. */
  onUpgrade?(socket: Socket, head: Buffer | undefined): void;
}

/**
 * Per-exchange timeouts in ms; `undefined` = none. A `PeerOptions` fits as is, so the proxy passes
 * the peer's options without copying them.
 */
export type ExchangeTimeouts = IoTimeouts;

/**
 * When things happened on an upstream connection, ms. `connect`/`tlsHandshake` are durations of the
 * connection's own setup (a reused connection did not pay them again); `requestSent` and
 * `firstByte` are `performance.now()` marks of the current exchange. One record per connection
 * (per stream on HTTP/2), rewritten by each exchange, so measuring allocates nothing per request.
 */
export interface ExchangeTiming extends ConnectTiming {
  /** `performance.now()` when the request head was handed to the transport. */
  requestSent: number;
  /** `performance.now()` when the first byte of the response arrived; 0 until then. */
  firstByte: number;
}

/** A fresh {@link ExchangeTiming}, with the connect durations of `connect` if given. */
export function exchangeTiming(connect?: ConnectTiming): ExchangeTiming {
  return {
    connect: connect?.connect ?? 0,
    tlsHandshake: connect?.tlsHandshake ?? 0,
    requestSent: 0,
    firstByte: 0,
  };
}

/**
 * One upstream exchange at a time over a connection, whatever the protocol. The proxy and the
 * pull-style `ClientSession` depend on this interface only.
 */
export interface UpstreamSession {
  /** `1` for HTTP/1.x, `2` for an HTTP/2 stream. */
  readonly httpVersion: 1 | 2;
  /** The underlying socket (for digests and logs). */
  readonly socket: Socket;
  /** Pool key of the peer it was opened for. */
  readonly reuseKey: string;
  /** The connection served an exchange before this one. */
  readonly reused: boolean;
  /** Connection setup durations and the current exchange's marks. */
  readonly timing: ExchangeTiming;
  /**
   * Sends `req` (framing fields are adjusted to `bodyMode`) and starts waiting for the response.
   * Returns false when the transport's buffer is full.
   */
  sendRequest(
    req: RequestHeader,
    handler: UpstreamResponseHandler,
    bodyMode: BodyMode,
    timeouts: ExchangeTimeouts,
  ): boolean;
  /** Request body bytes; false = wait for {@link onDrain}. */
  writeBody(chunk: Buffer): boolean;
  /** Ends the request body, with trailer fields where the protocol allows them. */
  finishBody(rawTrailers?: readonly string[]): void;
  /** Runs `cb` once the transport can take more request body. */
  onDrain(cb: () => void): void;
  /** Stops delivering the response (the reader is slow); the read timeout is suspended meanwhile. */
  pauseResponse(): void;
  /** Resumes after {@link pauseResponse}. */
  resumeResponse(): void;
  /** Aborts the exchange (and, for HTTP/1.1, closes the connection). */
  destroy(): void;
}
