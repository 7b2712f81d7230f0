/**
 * `Connector`: hands out upstream sessions, reusing pooled connections first (Pingora's
 * `TransportConnector` + `ConnectionPool`). A session is an HTTP/1.1 connection or a stream on a
 * shared HTTP/2 connection, chosen as Pingora does: `alpn: 'h1'` uses HTTP/1.1 only; otherwise a
 * pooled HTTP/2 connection with a free stream slot, else (if h1 is allowed) a pooled HTTP/1.1 one,
 * else a new connection where ALPN decides (h2c with prior knowledge for a plaintext `'h2'` peer).
 * It also counts new connections and reuses, so the connection-reuse ratio — Pingora's headline
 * win — can be observed.
 */
import type { TLSSocket } from 'node:tls';
import { H1ClientSession, type UpstreamSession } from '../protocols/h1-client.js';
import { H2ClientSession } from '../protocols/h2-client.js';
import { H2ClientConnection } from '../protocols/h2-connection.js';
import { type ConnectTiming, connectPeer } from './connect.js';
import { H2ConnectionPool } from './h2-pool.js';
import { HttpPeer } from './peer.js';
import { ConnectionPool } from './pool.js';

/** Connector settings. */
export interface ConnectorOptions {
  /** Idle connections kept across all peers (Pingora's `upstream_keepalive_pool_size`). Default 128. */
  keepalivePoolSize?: number;
  /**
   * Idle timeout (ms) for peers whose `options.idleTimeout` is unset. Default 4 000: below the 5 s
   * keep-alive timeout of Node servers, so the origin rarely closes a connection we are about to reuse.
   */
  defaultIdleTimeout?: number;
}

/** Counters of a connector. */
export interface ConnectorStats {
  /** Connections opened. */
  connectionsCreated: number;
  /** Exchanges that ran on a pooled connection (HTTP/1.1) or a pooled HTTP/2 connection's stream. */
  reuses: number;
}

// Concurrent first requests to an HTTP/2 peer share one connection attempt instead of each
// opening its own, up to the peer's stream limit.
interface PendingH2 {
  readonly promise: Promise<H1ClientSession | H2ClientConnection>;
  readonly timing: ConnectTiming;
  joined: number;
  readonly max: number;
}

/**
 * Opens and pools upstream connections.
 *
 * @example
 * ```ts
 * const connector = new Connector();
 * const peer = new HttpPeer('127.0.0.1:8080', false, '');
 * peer.options.alpn = 'h2';        // h2c with prior knowledge; over TLS, ALPN h2
 * peer.options.maxH2Streams = 100; // streams shared per connection
 * const [session, reused] = await connector.getHttpSession(peer);
 * // … one exchange …
 * connector.releaseHttpSession(session, peer);
 * ```
 */
export class Connector {
  /** The idle HTTP/1.1 connection pool. */
  readonly pool: ConnectionPool;
  /** The HTTP/2 connection pool (in-use and idle). */
  readonly h2Pool: H2ConnectionPool;
  /** Counters (monotonic). */
  readonly stats: ConnectorStats = { connectionsCreated: 0, reuses: 0 };
  private readonly defaultIdleTimeout: number;
  private readonly preferH1Keys = new Set<string>();
  private readonly pendingH2 = new Map<string, PendingH2>();

  constructor(options: ConnectorOptions = {}) {
    const size = options.keepalivePoolSize ?? 128;
    this.pool = new ConnectionPool(size);
    this.h2Pool = new H2ConnectionPool(size);
    this.defaultIdleTimeout = options.defaultIdleTimeout ?? 4_000;
  }

  /** A connector sized from a server configuration (`upstreamKeepalivePoolSize`). */
  static fromServerConf(conf: { upstreamKeepalivePoolSize?: number }): Connector {
    return new Connector({ keepalivePoolSize: conf.upstreamKeepalivePoolSize ?? 128 });
  }

  /**
   * A session on a pooled connection for `peer`, or `undefined`. Synchronous: no promise on the
   * reuse path. HTTP/2 streams come first for peers that allow h2.
   */
  reusedHttpSession(peer: HttpPeer): UpstreamSession | undefined {
    const key = peer.reuseKey();
    if (peer.options.alpn !== 'h1') {
      const s = this.h2Pool.acquire(key);
      if (s !== undefined) {
        this.stats.reuses++;
        return s;
      }
    }
    const s = this.pool.get(key);
    if (s !== undefined) this.stats.reuses++;
    return s;
  }

  /**
   * Opens a new connection to `peer` and returns a session on it: an HTTP/2 stream when the peer
   * speaks h2 (ALPN over TLS; prior knowledge for a plaintext `alpn: 'h2'` peer), else HTTP/1.1.
   * Rejects with a typed `PingoraError`.
   */
  async newHttpSession(peer: HttpPeer): Promise<UpstreamSession> {
    const o = peer.options;
    const key = peer.reuseKey();
    // Plaintext 'h2h1' has no way to negotiate: HTTP/2 there needs prior knowledge (alpn 'h2').
    if (o.alpn === 'h1' || (!peer.tls && o.alpn !== 'h2') || this.preferH1Keys.has(key))
      return this.newH1(peer, key);
    const pending = this.pendingH2.get(key);
    if (pending !== undefined && pending.joined < pending.max) {
      pending.joined++;
      const c = await pending.promise;
      // A joiner waited for the same connect, so it reports the same setup time.
      if (c instanceof H2ClientConnection && c.usable) return withSetup(c.reserve(false), pending.timing);
      // The origin chose HTTP/1.1 or the connection died already: this request needs its own.
      return this.newHttpSession(peer);
    }
    const timing: ConnectTiming = { connect: 0, tlsHandshake: 0 };
    const p: PendingH2 = {
      promise: this.connectH2(peer, key, timing),
      timing,
      joined: 1,
      max: Math.max(1, o.maxH2Streams),
    };
    this.pendingH2.set(key, p);
    try {
      const c = await p.promise;
      if (!(c instanceof H2ClientConnection)) return c;
      // Pooled only with its first stream reserved, so no other request can find it idle first.
      const s = withSetup(c.reserve(false), timing);
      this.h2Pool.add(c, o.idleTimeout ?? this.defaultIdleTimeout);
      return s;
    } finally {
      if (this.pendingH2.get(key) === p) this.pendingH2.delete(key);
    }
  }

  /** Pingora's `get_http_session`: a pooled session if there is one, else a new one; and whether it was reused. */
  async getHttpSession(peer: HttpPeer): Promise<[UpstreamSession, boolean]> {
    const pooled = this.reusedHttpSession(peer);
    if (pooled !== undefined) return [pooled, true];
    return [await this.newHttpSession(peer), false];
  }

  /**
   * Gives a session back after an exchange. An HTTP/1.1 connection is pooled when the exchange
   * ended cleanly and the origin allows keep-alive, otherwise closed; an HTTP/2 stream returns its
   * slot to the shared connection. `idleTimeout` overrides the peer's.
   */
  releaseHttpSession(session: UpstreamSession, peer: HttpPeer, idleTimeout?: number): void {
    if (session instanceof H2ClientSession) {
      session.release();
      return;
    }
    const ms = idleTimeout ?? peer.options.idleTimeout ?? this.defaultIdleTimeout;
    if (session instanceof H1ClientSession) this.pool.put(session, ms);
    else session.destroy();
  }

  /**
   * Pingora's `prefer_h1`: from now on, new connections to `peer` use HTTP/1.1 (set automatically
   * when an `h2h1` origin answers HTTP_1_1_REQUIRED or speaks invalid HTTP/2).
   */
  preferH1(peer: HttpPeer): void {
    this.preferH1Keys.add(peer.reuseKey());
  }

  /** Closes every pooled connection. */
  close(): void {
    this.pool.closeAll();
    this.h2Pool.closeAll();
  }

  private async newH1(peer: HttpPeer, key: string): Promise<H1ClientSession> {
    const timing: ConnectTiming = { connect: 0, tlsHandshake: 0 };
    const socket = await connectPeer(peer.options.alpn === 'h1' || !peer.tls ? peer : h1Only(peer), timing);
    this.stats.connectionsCreated++;
    return new H1ClientSession(socket, key, timing);
  }

  private async connectH2(
    peer: HttpPeer,
    key: string,
    timing: ConnectTiming,
  ): Promise<H1ClientSession | H2ClientConnection> {
    const o = peer.options;
    const socket = await connectPeer(peer, timing);
    this.stats.connectionsCreated++;
    if (peer.tls && (socket as TLSSocket).alpnProtocol !== 'h2') {
      // The origin did not pick h2 (Pingora falls back to HTTP/1.1 whatever was offered).
      return new H1ClientSession(socket, key, timing);
    }
    return new H2ClientConnection(socket, key, {
      maxStreams: Math.max(1, o.maxH2Streams),
      pingInterval: o.h2PingInterval,
      scheme: peer.tls ? 'https' : 'http',
      allowH1: o.alpn === 'h2h1',
      onPreferH1: o.alpn === 'h2h1' ? () => this.preferH1Keys.add(key) : undefined,
    });
  }
}

function withSetup(s: H2ClientSession, timing: ConnectTiming): H2ClientSession {
  s.timing.connect = timing.connect;
  s.timing.tlsHandshake = timing.tlsHandshake;
  return s;
}

// The same peer offering only http/1.1 (after the origin asked for it): connectPeer reads ALPN
// from the options, so it gets a copy with `alpn: 'h1'`.
function h1Only(peer: HttpPeer): HttpPeer {
  const p = new HttpPeer(peer.address, peer.tls, peer.sni);
  p.options = peer.options.clone();
  p.options.alpn = 'h1';
  p.groupKey = peer.groupKey;
  p.clientCertKey = peer.clientCertKey;
  return p;
}
