/**
 * `HttpPeer`: where and how to connect upstream. The proxy's `upstreamPeer` phase returns one per
 * attempt; the connector pools connections by {@link HttpPeer.reuseKey}, which covers every field
 * that makes two connections interchangeable (address, scheme, SNI, TLS settings, group).
 */
import { ErrorType, PingoraError } from '@pingora-ts/error';
import { type CertKey, PeerOptions } from './peer-options.js';

/** A TCP (host/IP and port) or Unix-socket address. */
export type PeerAddress =
  | { readonly kind: 'inet'; readonly host: string; readonly port: number }
  | { readonly kind: 'unix'; readonly path: string };

function badAddress(addr: string): PingoraError {
  return PingoraError.explain(ErrorType.InternalError, `invalid peer address ${JSON.stringify(addr)}`);
}

/** Parses `"1.2.3.4:80"`, `"[::1]:8080"`, `"example.com:443"` or `"unix:/path.sock"`. */
export function parsePeerAddress(addr: string): PeerAddress {
  if (addr.startsWith('unix:')) return { kind: 'unix', path: addr.slice(5) };
  if (addr.startsWith('/')) return { kind: 'unix', path: addr };
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
  return { kind: 'inet', host, port };
}

/** `host:port` with IPv6 in brackets, or the Unix path. */
export function formatPeerAddress(a: PeerAddress): string {
  if (a.kind === 'unix') return `unix:${a.path}`;
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
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
  /** Where to connect. */
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

  constructor(address: string | PeerAddress, tls: boolean, sni: string) {
    this.address = typeof address === 'string' ? parsePeerAddress(address) : address;
    this.scheme = tls ? 'https' : 'http';
    this.sni = sni;
    this.options = new PeerOptions();
  }

  /** A peer on a Unix domain socket. */
  static newUds(path: string, tls: boolean, sni: string): HttpPeer {
    return new HttpPeer({ kind: 'unix', path }, tls, sni);
  }

  /** A TLS peer that authenticates with a client certificate. */
  static newMtls(address: string | PeerAddress, sni: string, certKey: CertKey): HttpPeer {
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
    let key = `${this.scheme}|${formatPeerAddress(this.address)}|${this.groupKey}`;
    if (this.tls) {
      const o = this.options;
      key += `|${this.sni}|${o.verifyCert}|${o.verifyHostname}|${o.alternativeCn ?? ''}|${o.alpn}|${o.maxH2Streams}`;
      key += `|${identity(o.ca)}|${identity(this.clientCertKey)}`;
    } else if (this.options.alpn !== 'h1') {
      key += `|${this.options.alpn}|${this.options.maxH2Streams}`;
    }
    this.#key = key;
    return key;
  }

  /** Pingora's `Display` of a peer, used in error contexts. */
  toString(): string {
    return `addr: ${formatPeerAddress(this.address)}, scheme: ${this.scheme.toUpperCase()},${this.sni ? ` sni: ${this.sni},` : ''}`;
  }
}

// TLS material goes into the key as a short id: peers sharing the same CA or certificate (the same
// object, or an equal PEM string) share a pool, and the key stays small.
const objectIds = new WeakMap<object, number>();
const stringIds = new Map<string, number>();
let nextId = 1;
function identity(v: unknown): string {
  if (v === undefined || v === null) return '';
  let id: number | undefined;
  if (typeof v === 'string') {
    id = stringIds.get(v);
    if (id === undefined) {
      id = nextId++;
      stringIds.set(v, id);
    }
  } else if (typeof v === 'object') {
    id = objectIds.get(v);
    if (id === undefined) {
      id = nextId++;
      objectIds.set(v, id);
    }
  } else {
    return String(v);
  }
  return `#${id}`;
}
