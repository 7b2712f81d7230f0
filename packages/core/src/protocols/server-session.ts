/**
 * What a downstream HTTP session offers, whatever the protocol underneath (HTTP/1.1 on node:http
 * now, HTTP/2 streams later). The proxy and `ServeHttp` apps depend on this interface only.
 */
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
  /** `undefined` closes the connection after this response; a number keeps it alive (seconds). */
  setKeepalive(seconds: number | undefined): void;
  /** Calls `cb` if the client goes away before the response is finished. */
  onClientGone(cb: () => void): void;
  /**
   * Aborts the connection (a response that cannot be finished). HTTP/2 resets only the stream:
   * with CANCEL when `cancel` is set (the response's source went away, as Pingora's proxy answers
   * an origin that dies mid-response), else with INTERNAL_ERROR.
   */
  abort(cancel?: boolean): void;
  /** Takes the raw connection for a tunnel after an upgrade; `undefined` if not an upgrade. */
  takeUpgradeSocket(): { socket: import('node:net').Socket; head: Buffer } | undefined;
}
