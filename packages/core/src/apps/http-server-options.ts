/**
 * The settings of an `HttpServer`: how its listeners speak HTTP (h2c, HTTP/2 settings, CONNECT)
 * and the limits and timeouts that bound each downstream connection.
 */
import type { ServerSessionOptions } from 'node:http2';
import type { Logger } from '../logger.js';

/** Settings of the downstream HTTP server (Pingora's `HttpServerOptions` plus node's limits). */
export interface HttpServerOptions {
  /**
   * Accept HTTP/2 with prior knowledge (h2c) on plaintext listeners. The first bytes of each
   * connection are peeked: the h2 preface starts HTTP/2, anything else is served as HTTP/1.x.
   * TLS connections use HTTP/2 whenever ALPN chose `h2`, whatever this says.
   */
  h2c?: boolean;
  /**
   * node:http2 options for downstream HTTP/2 sessions (Pingora's `h2_options`): `settings`
   * (`maxConcurrentStreams` defaults to 128, `initialWindowSize`, …), `maxSessionMemory`,
   * `maxHeaderListPairs`, …
   */
  h2Options?: ServerSessionOptions;
  /** Let `CONNECT` requests through to the app instead of answering 405. */
  allowConnectMethodProxying?: boolean;
  /** Requests served per connection before it is closed (`keepalive_request_limit`). */
  keepaliveRequestLimit?: number;
  /** Idle time allowed between requests on a keep-alive connection, ms. Default 60 000 (Pingora). */
  keepaliveTimeout?: number;
  /**
   * Time allowed to receive a request head, ms; past it the client gets 408 and the connection
   * closes. Counted from the connection's start for its first request, and from the first byte of
   * each later one: the wait between requests is the keep-alive timeout's. Default 60 000; 0
   * disables. HTTP/1.x.
   */
  headersTimeout?: number;
  /**
   * Time allowed to receive a whole request, head and body, ms (node:http's meaning): counted as
   * `headersTimeout` is, until the last body byte is in. Past it the client gets 408 and the
   * connection closes, or, once a response has started, the connection just closes. When set, it
   * must be at least `headersTimeout` (node:http's rule, kept for both engines). 0 disables.
   * Default 0 (bodies may stream for long). HTTP/1.x.
   */
  requestTimeout?: number;
  /** Largest request head, bytes. Default 16 KiB (node's); larger heads get 431. */
  maxHeaderSize?: number;
  /**
   * Idle time allowed while reading a request body, ms (Pingora's downstream read timeout); past
   * it the request fails with 408. Default 60 000; `null` disables. HTTP/1.x (an upgrade request's
   * body included); a request may replace it with `session.setReadTimeout`, which HTTP/2 streams
   * also honour (they have no server-wide one: a quiet gRPC stream is not a stalled upload).
   */
  readTimeout?: number | null;
  /**
   * Time a response write may stay blocked on a client that reads nothing, ms; past it the
   * connection is closed (logged as 499). Default 60 000; `null` disables. HTTP/1.x; a request may
   * replace it with `session.setWriteTimeout` / `setMinSendRate`, which HTTP/2 streams also honour.
   */
  writeTimeout?: number | null;
  /**
   * Lingering close (nginx's `lingering_timeout`), ms. When a connection closes after a last
   * response while the client may still be sending (a body not read, a refused or timed-out
   * request, pipelined requests), its write side is shut and what arrives is read and dropped
   * until the client closes too, or this long passes without a byte. Closing at once would make
   * the kernel answer the client's next bytes with a reset, which can destroy the response before
   * the client reads it. Default 5 000; 0 closes at once. HTTP/1.x, `h1Engine: 'pingora'`.
   */
  lingeringTimeout?: number;
  /** The longest a lingering close may last in all, ms (nginx's `lingering_time`). Default 30 000. */
  lingeringTime?: number;
  /** Logger for framework log lines. */
  logger?: Logger;
  /**
   * What serves HTTP/1.x: `'pingora'` (default) is pingora-ts's own session on raw `net` sockets
   * with its strict request parser; `'node'` is node:http (see the README's "HTTP/1.1 engines").
   * The environment variable `PINGORA_TS_H1_ENGINE` (`pingora` or `node`) overrides this for a
   * process.
   */
  h1Engine?: 'node' | 'pingora';
}
