/**
 * What a downstream HTTP session offers, whatever the protocol underneath (HTTP/1.1 on node:http
 * now, HTTP/2 streams later). The proxy and `ServeHttp` apps depend on this interface only.
 */
import type { PingoraError } from '@pingora-ts/error';
import type { RequestHeader, ResponseHeader } from '@pingora-ts/http';
import type { SslDigest } from '@pingora-ts/tls-openssl';
import type { SocketAddr } from '../socket-addr.js';

// Sessions used to define this type here; it now has one definition, shared by every package.
export type { SocketAddr } from '../socket-addr.js';

/**
 * Facts about the downstream connection (Pingora's `Digest`). `sslDigest` is set when the client
 * connected over TLS: protocol version, cipher, SNI, ALPN, client certificate, and what
 * `handshakeCompleteCallback` returned.
 */
export interface Digest {
  readonly sslDigest: SslDigest | undefined;
}

/** Receives the request body in push mode; see {@link HttpServerSession.pumpRequestBody}. */
export interface RequestBodySink {
  onRequestBody(chunk: Buffer): void;
  onRequestBodyEnd(rawTrailers: string[] | undefined): void;
  onRequestBodyError(error: Error): void;
}

/**
 * Takes over {@link HttpServerSession.readRequestBody} and `drainRequestBody` (see
 * {@link HttpServerSession.setRequestBodyReader}): whoever forwards the body installs itself, so a
 * read made through the session cannot bypass it.
 */
export interface RequestBodyReader {
  readRequestBody(): Promise<Buffer | undefined>;
  drainRequestBody(): Promise<void>;
}

/** Timing marks of one request, in ms from `performance.timeOrigin` (monotonic). */
export interface SessionTiming {
  /** The request head was parsed. */
  start: number;
  /** The response head was written downstream (0 until then). */
  responseHeaderSent: number;
  /** The response was finished (0 until then). */
  end: number;
}

/**
 * A downstream HTTP request and its response. Header and body access never parse more than is
 * asked for; writes apply backpressure through return values and {@link onResponseDrain}.
 */
export interface HttpServerSession {
  /** 1 for HTTP/1.x, 2 for HTTP/2. */
  readonly httpVersion: 1 | 2;
  /** The request header (mutable; built lazily from the raw header array). */
  reqHeader(): RequestHeader;
  /** First value of a request header, case-insensitive. */
  getHeader(name: string): string | undefined;
  /**
   * The client's address; `${addr}` gives `ip:port` or `[ipv6]:port`. `undefined` over a Unix
   * socket (the client end has no name) or once the connection is gone.
   */
  clientAddr(): SocketAddr | undefined;
  /** The local address the request arrived on (`ip:port`, `[ipv6]:port`, or the socket path). */
  serverAddr(): SocketAddr | undefined;
  /** Connection facts; `digest().sslDigest !== undefined` means the request came over TLS (HTTPS). */
  digest(): Digest;
  /** Timing marks. */
  readonly timing: SessionTiming;

  /** The request may carry a body (framing says so). */
  readonly hasRequestBody: boolean;
  /** The request asked for an upgrade (e.g. WebSocket) and it was not refused. */
  isUpgradeReq(): boolean;
  /** Reads the next request body chunk; `undefined` at the end. Consumes the body. */
  readRequestBody(): Promise<Buffer | undefined>;
  /** Streams the rest of the request body to `sink`, with {@link pauseRequestBody} for backpressure. */
  pumpRequestBody(sink: RequestBodySink): void;
  /** Stop delivering request body chunks until {@link resumeRequestBody}. */
  pauseRequestBody(): void;
  /** Resume after {@link pauseRequestBody}. */
  resumeRequestBody(): void;
  /** Reads and discards the rest of the request body. */
  drainRequestBody(): Promise<void>;
  /** Request body bytes read so far. */
  readonly bodyBytesRead: number;
  /** Sends `100 Continue` if the client asked for it and it was not sent yet. */
  writeContinueResponse(): void;
  /**
   * Sends an interim `103 Early Hints` head before the final response (an origin's, forwarded).
   * Ignored once the final head is written, for HTTP/1.0 clients (they cannot take 1xx), for a
   * 103 without `Link`, and for other 1xx statuses (100 is {@link writeContinueResponse}'s, 101
   * ends in a tunnel, 102 is obsolete).
   */
  writeInformationalResponse(resp: ResponseHeader): void;

  /** Writes the response head; `endOfStream` ends the response with no body. */
  writeResponseHeader(resp: ResponseHeader, endOfStream?: boolean): void;
  /** Writes body bytes; returns false when the client is slow (wait for {@link onResponseDrain}). */
  writeResponseBody(chunk: Buffer | undefined, endOfStream: boolean): boolean;
  /** Ends the response with trailer fields (flat raw array). */
  writeResponseTrailers(rawTrailers: string[]): void;
  /** Runs `cb` once the client has taken the buffered response bytes. */
  onResponseDrain(cb: () => void): void;
  /** The response head, once written. */
  responseWritten(): ResponseHeader | undefined;
  /** The response is complete. */
  readonly responseFinished: boolean;
  /** Response body bytes written so far. */
  readonly bodyBytesSent: number;
  /** Answers with a bare error response (Pingora's `respond_error`). */
  respondError(status: number): void;
  /** Answers with an error response and a body. */
  respondErrorWithBody(status: number, body: Buffer | string): void;
  /**
   * `undefined` closes the connection after this response (HTTP/1.1 answers `Connection: close`);
   * a number keeps it alive and makes that many seconds its idle timeout before the next request
   * (`0`: no idle timeout, as Pingora). A number never keeps alive a connection the client (or a
   * graceful shutdown) asked to close. Call it before the response head is written. HTTP/2: no-op
   * (the connection's idle timeout is the server's `keepaliveTimeout`, shared by all its streams).
   */
  setKeepalive(seconds: number | undefined): void;
  /**
   * Idle time allowed while waiting for request body bytes, ms; `undefined` = none. Replaces the
   * server's `readTimeout` for this request; a wait already running restarts with the new value.
   * Past it the body read fails with a downstream `ReadTimedout`.
   */
  setReadTimeout(ms: number | undefined): void;
  /** The request body read timeout in force (ms), `undefined` for none. */
  getReadTimeout(): number | undefined;
  /**
   * Time a response write may stay blocked (the client takes nothing, its socket buffer or
   * flow-control window is full), ms; `undefined` = none. Past it the request fails with a
   * downstream `WriteTimedout` and the connection (HTTP/2: the stream) is closed. Replaces the
   * server's `writeTimeout` for this request; applies from the next blocked write.
   */
  setWriteTimeout(ms: number | undefined): void;
  /**
   * Minimum rate the client must take response bytes at, bytes per second; `undefined` or 0 turns
   * it off. Measured over each blocked wait: when a write is refused, the bytes then queued must
   * drain within `max(1 s, queued / rate)`, else the request fails as on a write timeout. When set
   * it takes the place of the write timeout (as in Pingora).
   */
  setMinSendRate(bytesPerSecond: number | undefined): void;
  /**
   * When the response is finished before the request body was fully received: `false` (default)
   * reads and discards the rest so the connection can serve another request, within the total
   * drain timeout (past it the connection closes); `true` answers `Connection: close` instead and
   * closes the connection after the response. Decided when the response head is written. HTTP/1.x
   * only: an HTTP/2 stream's unread body is always discarded.
   */
  setCloseOnResponseBeforeDownstreamFinish(close: boolean): void;
  /**
   * Bound on draining the rest of an unread request body after the response (see
   * {@link setCloseOnResponseBeforeDownstreamFinish}), ms. Default 10 000; `undefined` = none.
   */
  setTotalDrainTimeout(ms: number | undefined): void;
  /**
   * Routes {@link readRequestBody} and {@link drainRequestBody} through `reader` from now on
   * (`undefined` restores direct reads). The proxy installs its retry buffer here, so a filter
   * that reads the body through the downstream session is seen by the one reader that forwards it.
   */
  setRequestBodyReader(reader: RequestBodyReader | undefined): void;
  /**
   * Calls `cb` if the client goes away before the response is finished. `reason` says why when
   * the session cut the connection itself (a downstream `WriteTimedout`), else is `undefined`.
   */
  onClientGone(cb: (reason: PingoraError | undefined) => void): void;
  /**
   * Aborts the connection (a response that cannot be finished). HTTP/2 resets only the stream:
   * with CANCEL when `cancel` is set (the response's source went away, as Pingora's proxy answers
   * an origin that dies mid-response), else with INTERNAL_ERROR.
   */
  abort(cancel?: boolean): void;
  /** Takes the raw connection for a tunnel after an upgrade; `undefined` if not an upgrade. */
  takeUpgradeSocket(): { socket: import('node:net').Socket; head: Buffer } | undefined;
}
