/**
 * Per-peer connection settings, Pingora's `PeerOptions`. Times are milliseconds. The TLS fields
 * are plain data here; turning them into `node:tls` options happens in one place (tls-options.ts).
 * `ALPN` and `CertKey` are tls-openssl's: one definition for listeners and peers.
 */
import type { ALPN, Pem } from '@pingora-ts/tls-openssl';

/** TCP keepalive probe settings for upstream sockets. */
export interface TcpKeepalive {
  /** Idle time before the first probe, in ms. */
  idle: number;
}

/** Default limit for the TCP connect and for the TLS handshake, ms (nginx's `proxy_connect_timeout`). */
export const DEFAULT_CONNECTION_TIMEOUT = 60_000;
/** Default limit for each wait for response bytes, ms (nginx's `proxy_read_timeout`). */
export const DEFAULT_READ_TIMEOUT = 60_000;
/** Default limit for each blocked write of the request, ms (nginx's `proxy_send_timeout`). */
export const DEFAULT_WRITE_TIMEOUT = 60_000;

/**
 * Connection settings of an {@link HttpPeer}.
 *
 * Unlike Pingora, whose timeouts are all unset, the connect, read and write timeouts default to
 * 60 s, nginx's values: with none, an origin that accepts and then says nothing (or stops halfway
 * through a head) holds its client forever. They bound waits, not exchanges: the read timeout
 * restarts with every read and with every piece of request body sent, and is suspended while the
 * client is the slow reader, so a long upload, a long download or a streaming response that sends
 * something at least once a minute is never cut. A tunnel after a 101 (WebSocket) is not subject
 * to them; the proxy's `tunnelIdleTimeout` applies there.
 * A stream that may stay silent for longer than a minute (server-sent events without heartbeats,
 * a gRPC server stream waiting for events) needs a longer `readTimeout`, or `undefined` for none.
 *
 * @example
 * ```ts
 * const peer = new HttpPeer('127.0.0.1:8080', false, '');
 * peer.options.connectionTimeout = 1_000;
 * peer.options.readTimeout = 30_000;
 * ```
 */
export class PeerOptions {
  /**
   * Limit for the TCP connect and, separately, for the TLS handshake. Default 60 s;
   * `undefined` waits as long as the OS does. Expiry answers 504.
   */
  connectionTimeout: number | undefined = DEFAULT_CONNECTION_TIMEOUT;
  /** Limit for TCP connect + TLS handshake together. Unset by default. */
  totalConnectionTimeout: number | undefined = undefined;
  /**
   * Limit for each wait for response bytes; reset by every read. Expiry answers 504. Default 60 s;
   * `undefined` waits forever.
   */
  readTimeout: number | undefined = DEFAULT_READ_TIMEOUT;
  /**
   * Limit for each blocked write of the request. Expiry answers 504. Default 60 s;
   * `undefined` waits forever.
   */
  writeTimeout: number | undefined = DEFAULT_WRITE_TIMEOUT;
  /**
   * How long an idle connection may wait in the pool. `undefined` uses the connector's default
   * (4 s: below the 5 s keep-alive timeout of Node servers, so the origin never closes first);
   * `Infinity` keeps it until the origin closes it; `0` disables reuse.
   */
  idleTimeout: number | undefined = undefined;
  /** Verify the origin's certificate chain (TLS). */
  verifyCert = true;
  /** Verify that the certificate matches the SNI (or {@link alternativeCn}). */
  verifyHostname = true;
  /** Another name the certificate may carry instead of the SNI. */
  alternativeCn: string | undefined = undefined;
  /** ALPN offer; `h1` by default. */
  alpn: ALPN = 'h1';
  /**
   * Trusted CAs (PEM) for this peer. Unset: the connector's default CA (the server
   * configuration's `ca_file`), else Node's bundled Mozilla roots. Compared by content in the
   * pool key.
   */
  ca: Pem | undefined = undefined;
  /** Streams per HTTP/2 connection. */
  maxH2Streams = 1;
  /** Interval of HTTP/2 PINGs on idle sessions, ms. */
  h2PingInterval: number | undefined = undefined;
  /** TCP keepalive for the upstream socket. */
  tcpKeepalive: TcpKeepalive | undefined = undefined;
  /**
   * Source IP address of the upstream connection (Pingora's `bind_to`), e.g. `'10.0.0.5'`; the
   * OS picks the port. Wins over the connector's `bindToIpv4` / `bindToIpv6` (the server
   * configuration's `client_bind_to_ipv4` / `_ipv6`). With a host name, only addresses of the
   * same family are tried. Part of the pool key. Unset: the connector's choice, else the OS's.
   */
  bindTo: string | undefined = undefined;

  /** Shallow copy. */
  clone(): PeerOptions {
    return Object.assign(new PeerOptions(), this);
  }

  /**
   * Pingora's `set_http_version(max, min)`: max 1 → h1 only; min 2 → h2 only; else prefer h2.
   */
  setHttpVersion(max: 1 | 2, min: 1 | 2): void {
    this.alpn = max === 1 ? 'h1' : min === 2 ? 'h2' : 'h2h1';
  }
}
