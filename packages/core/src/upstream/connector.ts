/**
 * `Connector`: hands out upstream connections, reusing pooled ones first (Pingora's
 * `TransportConnector` + `ConnectionPool`). It also counts new connections and reuses, so the
 * connection-reuse ratio — Pingora's headline win — can be observed.
 */
import { H1ClientSession, type UpstreamSession } from '../protocols/h1-client.js';
import { connectPeer } from './connect.js';
import type { HttpPeer } from './peer.js';
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
  /** Exchanges that ran on a pooled connection. */
  reuses: number;
}

/**
 * Opens and pools upstream connections.
 *
 * @example
 * ```ts
 * const connector = new Connector();
 * const [session, reused] = await connector.getHttpSession(new HttpPeer('127.0.0.1:8080', false, ''));
 * // … one exchange …
 * connector.releaseHttpSession(session, peer);
 * ```
 */
export class Connector {
  /** The idle-connection pool. */
  readonly pool: ConnectionPool;
  /** Counters (monotonic). */
  readonly stats: ConnectorStats = { connectionsCreated: 0, reuses: 0 };
  private readonly defaultIdleTimeout: number;

  constructor(options: ConnectorOptions = {}) {
    this.pool = new ConnectionPool(options.keepalivePoolSize ?? 128);
    this.defaultIdleTimeout = options.defaultIdleTimeout ?? 4_000;
  }

  /** A connector sized from a server configuration (`upstreamKeepalivePoolSize`). */
  static fromServerConf(conf: { upstreamKeepalivePoolSize?: number }): Connector {
    return new Connector({ keepalivePoolSize: conf.upstreamKeepalivePoolSize ?? 128 });
  }

  /** A pooled connection for `peer`, or `undefined`. Synchronous: no promise on the reuse path. */
  reusedHttpSession(peer: HttpPeer): H1ClientSession | undefined {
    const s = this.pool.get(peer.reuseKey());
    if (s !== undefined) this.stats.reuses++;
    return s;
  }

  /** Opens a new connection to `peer`. Rejects with a typed `PingoraError`. */
  async newHttpSession(peer: HttpPeer): Promise<H1ClientSession> {
    const socket = await connectPeer(peer);
    this.stats.connectionsCreated++;
    return new H1ClientSession(socket, peer.reuseKey());
  }

  /** Pingora's `get_http_session`: a pooled connection if there is one, else a new one; and whether it was reused. */
  async getHttpSession(peer: HttpPeer): Promise<[H1ClientSession, boolean]> {
    const pooled = this.reusedHttpSession(peer);
    if (pooled !== undefined) return [pooled, true];
    return [await this.newHttpSession(peer), false];
  }

  /**
   * Gives a connection back after an exchange. It is pooled when the exchange ended cleanly and
   * the origin allows keep-alive; otherwise it is closed. `idleTimeout` overrides the peer's.
   */
  releaseHttpSession(session: UpstreamSession, peer: HttpPeer, idleTimeout?: number): void {
    const ms = idleTimeout ?? peer.options.idleTimeout ?? this.defaultIdleTimeout;
    if (session instanceof H1ClientSession) this.pool.put(session, ms);
    else session.destroy();
  }

  /** Closes every pooled connection. */
  close(): void {
    this.pool.closeAll();
  }
}
