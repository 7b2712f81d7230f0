/**
 * `X-Forwarded-*` and `Forwarded` (RFC 7239) for the upstream request, without the spoofing bug
 * most proxies ship: a client may send any `X-Forwarded-For` it likes, so the chain is extended
 * only when the connection comes from a proxy you trust; otherwise it is replaced.
 */
import net from 'node:net';
import type { RequestHeader } from '@pingora-ts/http';
import type { Session } from './session.js';

/** Which peers may pass on forwarding headers. */
export class TrustedProxies {
  private readonly list = new net.BlockList();
  private empty = true;

  /**
   * @param cidrs addresses or CIDR ranges, e.g. `['10.0.0.0/8', '127.0.0.1', '::1/128']`
   * @example
   * ```ts
   * const trusted = new TrustedProxies(['10.0.0.0/8', '192.168.0.0/16']);
   * ```
   */
  constructor(cidrs: Iterable<string> = []) {
    for (const c of cidrs) this.add(c);
  }

  /** Adds an address or CIDR range. Throws a TypeError naming the entry if it is invalid. */
  add(cidr: string): void {
    const [addr, bits] = cidr.split('/');
    const family = net.isIP(addr ?? '');
    if (family === 0) throw new TypeError(`TrustedProxies: invalid address in ${JSON.stringify(cidr)}`);
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) this.list.addAddress(addr!, type);
    else {
      const n = Number(bits);
      if (!Number.isInteger(n) || n < 0 || n > (family === 6 ? 128 : 32)) {
        throw new TypeError(`TrustedProxies: invalid prefix length in ${JSON.stringify(cidr)}`);
      }
      this.list.addSubnet(addr!, n, type);
    }
    this.empty = false;
  }

  /** Whether `address` is trusted. */
  has(address: string | undefined): boolean {
    if (this.empty || address === undefined) return false;
    const v4mapped = address.startsWith('::ffff:') && net.isIPv4(address.slice(7));
    const a = v4mapped ? address.slice(7) : address;
    return this.list.check(a, net.isIPv6(a) ? 'ipv6' : 'ipv4');
  }
}

/** Options of {@link setForwardedHeaders}. */
export interface ForwardedOptions {
  /** Proxies whose forwarding headers are kept and extended. Default: none. */
  trusted?: TrustedProxies;
  /** Also write RFC 7239 `Forwarded`. Default false. */
  forwarded?: boolean;
  /** Scheme the client used. Default: `https` when the client connection is TLS, else `http`. */
  proto?: string;
}

/**
 * The client's address as far as it can be trusted: walks `X-Forwarded-For` from the right while
 * each hop is a trusted proxy, and returns the first untrusted one (or the socket peer).
 */
export function clientIp(session: Session, trusted?: TrustedProxies): string | undefined {
  const peer = session.clientAddr()?.address;
  if (trusted === undefined || !trusted.has(peer)) return peer;
  const chain = session
    .reqHeader()
    .headers.getAll('x-forwarded-for')
    .flatMap((v) => v.split(','))
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  for (let i = chain.length - 1; i >= 0; i--) {
    if (!trusted.has(chain[i])) return chain[i];
  }
  return chain[0] ?? peer;
}

function forwardedNode(ip: string): string {
  return net.isIPv6(ip) ? `"[${ip}]"` : ip;
}

/**
 * Sets `X-Forwarded-For`, `X-Forwarded-Proto`, `X-Forwarded-Host` (and optionally `Forwarded`)
 * on the upstream request: appended to when the client is a trusted proxy, overwritten otherwise.
 *
 * @example
 * ```ts
 * const trusted = new TrustedProxies(['10.0.0.0/8']);
 * upstreamRequestFilter(session, up) {
 *   setForwardedHeaders(session, up, { trusted });
 * }
 * ```
 */
export function setForwardedHeaders(
  session: Session,
  upstream: RequestHeader,
  options: ForwardedOptions = {},
): void {
  const peer = session.clientAddr()?.address ?? 'unknown';
  const trustedPeer = options.trusted?.has(peer) === true;
  const h = upstream.headers;
  const proto = options.proto ?? (session.digest().sslDigest !== undefined ? 'https' : 'http');
  const host = h.get('host');
  if (trustedPeer) {
    const prior = h.getAll('x-forwarded-for').join(', ');
    upstream.insertHeader('X-Forwarded-For', prior ? `${prior}, ${peer}` : peer);
    if (h.get('x-forwarded-proto') === undefined) upstream.insertHeader('X-Forwarded-Proto', proto);
    if (host !== undefined && h.get('x-forwarded-host') === undefined)
      upstream.insertHeader('X-Forwarded-Host', host);
  } else {
    upstream.insertHeader('X-Forwarded-For', peer);
    upstream.insertHeader('X-Forwarded-Proto', proto);
    if (host !== undefined) upstream.insertHeader('X-Forwarded-Host', host);
    else upstream.removeHeader('X-Forwarded-Host');
  }
  if (options.forwarded === true) {
    let element = `for=${forwardedNode(peer)};proto=${proto}`;
    if (host !== undefined) element += `;host="${host.replace(/["\\]/g, '')}"`;
    const prior = trustedPeer ? h.getAll('forwarded').join(', ') : '';
    upstream.insertHeader('Forwarded', prior ? `${prior}, ${element}` : element);
  }
}
