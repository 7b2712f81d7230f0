/**
 * `HttpPeer`: where and how to connect upstream. The proxy's `upstreamPeer` phase returns one per
 * attempt; the connector pools connections by {@link HttpPeer.reuseKey}, which covers every field
 * that makes two connections interchangeable (address, scheme, SNI, TLS settings by content,
 * source address, group).
 */
import { ErrorType, PingoraError } from '@pingora-ts/error';
import { type CertKey, tlsMaterialDigest } from '@pingora-ts/tls-openssl';
import { formatHostPort, formatUnixPath } from '../socket-addr.js';
import { PeerOptions } from './peer-options.js';

/**
 * A TCP address (IP or host name, and port) of an upstream. `${addr}` gives `host:port` or
 * `[ipv6]:port`; make one with {@link peerAddress} or {@link parsePeerAddress}.
 */
export class InetPeerAddress {
  readonly kind = 'inet' as const;
  /** The plain-HTTP pool key of a default peer at this address (see `HttpPeer.reuseKey`). */
  #httpKey: string | undefined = undefined;
  // Access lines print the upstream per request; the text is made once.
  #text: string | undefined = undefined;
  constructor(
    readonly host: string,
    readonly port: number,
  ) {}
  /** `host:port`, `[ipv6]:port`. */
  toString(): string {
    if (this.#text === undefined) this.#text = formatHostPort(this.host, this.port);
    return this.#text;
  }
  /** @internal `http|host:port|0`, made once per address. */
  httpKey(): string {
    if (this.#httpKey === undefined) this.#httpKey = `http|${this.toString()}|0`;
    return this.#httpKey;
  }
  /** The same text, for JSON log lines. */
  toJSON(): string {
    return this.toString();
  }
}

/** A Unix-socket address of an upstream; `${addr}` gives the path. */
export class UnixPeerAddress {
  readonly kind = 'unix' as const;
  #httpKey: string | undefined = undefined;
  constructor(readonly path: string) {}
  /** @internal `http|unix:path|0`, made once per address. */
  httpKey(): string {
    if (this.#httpKey === undefined) this.#httpKey = `http|unix:${this.path}|0`;
    return this.#httpKey;
  }
  /** The socket path. */
  toString(): string {
    return formatUnixPath(this.path);
  }
  /** The same text, for JSON log lines. */
  toJSON(): string {
    return this.toString();
  }
}

/**
 * A TCP (host/IP and port) or Unix-socket address. Plain objects of this shape are accepted
 * everywhere; {@link HttpPeer} turns them into the classes, which print as text.
 */
export type PeerAddress = InetPeerAddress | UnixPeerAddress;

/** The plain-object shape of a {@link PeerAddress}, as older code and user code build it. */
export type PeerAddressInit =
  | { readonly kind: 'inet'; readonly host: string; readonly port: number }
  | { readonly kind: 'unix'; readonly path: string };

/** The printable form of `a` (the same instance when it already is one). */
export function peerAddress(a: PeerAddressInit): PeerAddress {
  if (a instanceof InetPeerAddress || a instanceof UnixPeerAddress) return a;
  return a.kind === 'unix' ? new UnixPeerAddress(a.path) : new InetPeerAddress(a.host, a.port);
}

function badAddress(addr: string): PingoraError {
  return PingoraError.explain(ErrorType.InternalError, `invalid peer address ${JSON.stringify(addr)}`);
}

/** Parses `"1.2.3.4:80"`, `"[::1]:8080"`, `"example.com:443"` or `"unix:/path.sock"`. */
export function parsePeerAddress(addr: string): PeerAddress {
  if (addr.startsWith('unix:')) return new UnixPeerAddress(addr.slice(5));
  if (addr.startsWith('/')) return new UnixPeerAddress(addr);
  const colon = addr.lastIndexOf(':');
  if (colon <= 0) throw badAddress(addr);
  let host = addr.slice(0, colon);
  const port = Number(addr.slice(colon + 1));
  if (host.startsWith('[')) {
    if (!host.endsWith(']')) throw badAddress(addr);
    host = host.slice(1, -1);
  } else if (host.includes(':')) {
    throw badAddress(addr);
  }
  if (host.length === 0 || !Number.isInteger(port) || port < 0 || port > 65535) throw badAddress(addr);
  return new InetPeerAddress(host, port);
}

// Addresses parsed from strings, shared: `upstreamPeer` usually builds a peer per request from one
// of a few constant strings, and a shared address keeps its pool key (and the key's hash) made.
const parsed = new Map<string, PeerAddress>();
const MAX_PARSED = 1024;

function sharedAddress(addr: string): PeerAddress {
  let a = parsed.get(addr);
  if (a === undefined) {
    a = parsePeerAddress(addr);
    // A proxy that makes addresses from request data must not grow this without bound.
    if (parsed.size >= MAX_PARSED) parsed.clear();
    parsed.set(addr, a);
  }
  return a;
}

/** `host:port` with IPv6 in brackets, or `unix:` and the path (the pool-key form). */
export function formatPeerAddress(a: PeerAddress): string {
  if (a.kind === 'unix') return `unix:${a.path}`;
  return formatHostPort(a.host, a.port);
}

/**
 * An upstream HTTP server (Pingora's `HttpPeer`). Unlike Pingora, a host name is resolved when a
 * connection is made (all A/AAAA records, happy eyeballs), not when the peer is built.
 *
 * @example
 * ```ts
 * upstreamPeer() {
 *   const peer = new HttpPeer('1.1.1.1:443', true, 'one.one.one.one');
 *   peer.options.connectionTimeout = 2_000;
 *   return peer;
 * }
 * ```
 */
export class HttpPeer {
  /** Where to connect; `${peer.address}` prints `host:port`, `[ipv6]:port` or the socket path. */
  readonly address: PeerAddress;
  /** `https` when `tls` was true. */
  readonly scheme: 'http' | 'https';
  /** Server name for TLS; empty = no SNI and no verification (Pingora's rule). */
  sni: string;
  /** Connection settings. */
  options: PeerOptions;
  /** Separates pools of otherwise identical peers (e.g. per tenant). */
  groupKey: string | number = 0;
  /** Client certificate for mutual TLS to this origin. */
  clientCertKey: CertKey | undefined = undefined;
  #key: string | undefined;

  constructor(address: string | PeerAddressInit, tls: boolean, sni: string) {
    this.address = typeof address === 'string' ? sharedAddress(address) : peerAddress(address);
    this.scheme = tls ? 'https' : 'http';
    this.sni = sni;
    this.options = new PeerOptions();
  }

  /** A peer on a Unix domain socket. */
  static newUds(path: string, tls: boolean, sni: string): HttpPeer {
    return new HttpPeer(new UnixPeerAddress(path), tls, sni);
  }

  /** A TLS peer that authenticates with a client certificate. */
  static newMtls(address: string | PeerAddressInit, sni: string, certKey: CertKey): HttpPeer {
    const p = new HttpPeer(address, true, sni);
    p.clientCertKey = certKey;
    return p;
  }

  /** Whether the connection uses TLS. */
  get tls(): boolean {
    return this.scheme === 'https';
  }

  /**
   * The pool key: connections are reused only between peers with the same key. Computed on first
   * use; change the peer's settings before handing it to a connector, not after.
   */
  reuseKey(): string {
    if (this.#key !== undefined) return this.#key;
    const o = this.options;
    // The usual plaintext peer: the address's own key, the same string for every such peer.
    if (!this.tls && o.alpn === 'h1' && o.bindTo === undefined && this.groupKey === 0) {
      this.#key = this.address.httpKey();
      return this.#key;
    }
    let key = `${this.scheme}|${formatPeerAddress(this.address)}|${this.groupKey}`;
    if (this.tls) {
      key += `|${this.sni}|${o.verifyCert}|${o.verifyHostname}|${o.alternativeCn ?? ''}|${o.alpn}|${o.maxH2Streams}`;
      // By content, as Pingora compares them: equal material in distinct objects shares a pool.
      key += `|${tlsMaterialDigest(o.ca)}|${tlsMaterialDigest(this.clientCertKey)}`;
    } else if (this.options.alpn !== 'h1') {
      key += `|${this.options.alpn}|${this.options.maxH2Streams}`;
    }
    if (this.options.bindTo !== undefined) key += `|bind=${this.options.bindTo}`;
    this.#key = key;
    return key;
  }

  /** Pingora's `Display` of a peer, used in error contexts. */
  toString(): string {
    return `addr: ${formatPeerAddress(this.address)}, scheme: ${this.scheme.toUpperCase()},${this.sni ? ` sni: ${this.sni},` : ''}`;
  }
}
