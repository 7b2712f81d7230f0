/**
 * `Connector`: hands out upstream sessions, reusing pooled connections first (Pingora's
 * `TransportConnector` + `ConnectionPool`). A session is an HTTP/1.1 connection or a stream on a
 * shared HTTP/2 connection, chosen as Pingora does: `alpn: 'h1'` uses HTTP/1.1 only; otherwise a
 * pooled HTTP/2 connection with a free stream slot, else (if h1 is allowed) a pooled HTTP/1.1 one,
 * else a new connection where ALPN decides (h2c with prior knowledge for a plaintext `'h2'` peer).
 * It also counts new connections and reuses, so the connection-reuse ratio — Pingora's headline
 * win — can be observed.
 */
import { isIP } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { ErrorType, PingoraError } from '@pingora-ts/error';
import { type Pem, readPemFile } from '@pingora-ts/tls-openssl';
import { DirectReads, H1ClientSession } from '../protocols/h1-client.js';
import type { UpstreamSession } from '../protocols/upstream-session.js';
import { H2ClientSession } from '../protocols/h2-client.js';
import { H2ClientConnection } from '../protocols/h2-connection.js';
import { type ConnectDefaults, type ConnectTiming, connectPeer } from './connect.js';
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
  /**
   * Source addresses of connections to IPv4 upstreams, one picked at random per connection
   * (Pingora's `client_bind_to_ipv4`). A peer's `options.bindTo` wins. Default: none (the OS picks).
   */
  bindToIpv4?: readonly string[];
  /** Source addresses of connections to IPv6 upstreams (Pingora's `client_bind_to_ipv6`). */
  bindToIpv6?: readonly string[];
  /**
   * Trusted CAs (PEM) of TLS peers that set no `options.ca` (Pingora's `ca_file`). Default: Node's
   * bundled Mozilla roots.
   */
  ca?: Pem;
}

/** The keys of a server configuration that {@link Connector.fromServerConf} reads. */
export interface ConnectorConf {
  upstreamKeepalivePoolSize?: number;
  clientBindToIpv4?: readonly string[];
  clientBindToIpv6?: readonly string[];
  caFile?: string;
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
  private readonly connectDefaults: ConnectDefaults | undefined;

  constructor(options: ConnectorOptions = {}) {
    const size = options.keepalivePoolSize ?? 128;
    this.pool = new ConnectionPool(size);
    this.h2Pool = new H2ConnectionPool(size);
    this.defaultIdleTimeout = options.defaultIdleTimeout ?? 4_000;
    const { bindToIpv4 = [], bindToIpv6 = [], ca } = options;
    checkSourceAddresses(bindToIpv4, 4);
    checkSourceAddresses(bindToIpv6, 6);
    if (bindToIpv4.length > 0 || bindToIpv6.length > 0 || ca !== undefined)
      this.connectDefaults = { bindToIpv4, bindToIpv6, ca };
  }

  /**
   * Pingora's `ConnectorOptions::from_server_conf`: pool size (`upstream_keepalive_pool_size`),
   * source addresses (`client_bind_to_ipv4` / `_ipv6`) and the default upstream CA (`ca_file`,
   * read now; a `FileReadError` naming the file when it cannot be read).
   *
   * @example
   * ```ts
   * const connector = Connector.fromServerConf(ServerConf.load('conf.yaml'));
   * ```
   */
  static fromServerConf(conf: ConnectorConf): Connector {
    return new Connector({
      keepalivePoolSize: conf.upstreamKeepalivePoolSize ?? 128,
      bindToIpv4: conf.clientBindToIpv4,
      bindToIpv6: conf.clientBindToIpv6,
      ca: conf.caFile === undefined ? undefined : readPemFile(conf.caFile),
    });
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
    const h1Peer = peer.options.alpn === 'h1' || !peer.tls ? peer : h1Only(peer);
    // Plaintext HTTP/1.1 reads skip the stream machinery (see DirectReads); TLS keeps 'data'.
    const reads = peer.tls ? undefined : new DirectReads();
    const socket = await connectPeer(h1Peer, timing, this.connectDefaults, reads?.onread);
    this.stats.connectionsCreated++;
    return new H1ClientSession(socket, key, timing, reads);
  }

  private async connectH2(
    peer: HttpPeer,
    key: string,
    timing: ConnectTiming,
  ): Promise<H1ClientSession | H2ClientConnection> {
    const o = peer.options;
    const socket = await connectPeer(peer, timing, this.connectDefaults);
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

function checkSourceAddresses(list: readonly string[], family: 4 | 6): void {
  for (const a of list) {
    if (isIP(a) !== family) {
      const why = `bindToIpv${family}: ${JSON.stringify(a)} is not an IPv${family} address`;
      throw PingoraError.explain(ErrorType.InternalError, why);
    }
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
