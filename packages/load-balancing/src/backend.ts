/**
 * `Backend`: one server a load balancer can pick, Pingora's `Backend { addr, weight, ext }`.
 * Identity is the address and the weight only (`ext` is user data), so a rediscovered backend
 * keeps its health and in-flight count, and two spellings of one IPv6 address are one backend.
 */
import { parsePeerAddress, type PeerAddress } from '@pingora-ts/core';
import { ErrorType, PingoraError } from '@pingora-ts/error';
import { Bucket } from '@pingora-ts/ketama';

/** Expands canonical IPv6 text (as ketama prints it) into 32 hex digits, for ordering. */
function ipv6Hex(ip: string): string {
  let text = ip;
  let tail = '';
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    // IPv4-mapped/compatible forms end in a dotted quad: two more groups.
    const v4 = text
      .slice(lastColon + 1)
      .split('.')
      .map(Number);
    tail = v4.map((n) => n.toString(16).padStart(2, '0')).join('');
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const [head = '', rest] = text.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = rest === undefined || rest === '' ? [] : rest.split(':');
  const groups =
    rest === undefined ? h : [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const hex = groups.map((g) => g.padStart(4, '0')).join('');
  return tail === '' ? hex : hex.slice(0, 24) + tail;
}

function invalid(addr: string, why: string, cause?: unknown): PingoraError {
  return PingoraError.because(
    ErrorType.InternalError,
    `invalid socket addr ${JSON.stringify(addr)}: ${why}`,
    cause,
  );
}

/**
 * A server to proxy or connect to. `addr` is an IP socket address (`"10.0.0.1:80"`,
 * `"[::1]:8080"`, canonicalised) or a Unix socket (`"unix:/run/app.sock"`). Host names are not
 * accepted here: resolve them with `Static.resolve()` or `DnsDiscovery`, which turn one name into
 * every address it has.
 *
 * Ordering is Pingora's: IP before Unix, IPv4 before IPv6, then IP, port and weight, so
 * `1.0.0.1:80 < 1.0.0.255:80 < 1.1.1.1:80`. Selection algorithms index the sorted list, which makes
 * them deterministic across processes.
 *
 * @example
 * ```ts
 * const b = new Backend('127.0.0.1:3000', 2);
 * b.ext.set('zone', 'eu-west'); // user data; not part of the identity
 * const peer = new HttpPeer(b.address, false, '');
 * ```
 */
export class Backend {
  /** Canonical address: `ip:port`, `[ipv6]:port` or `unix:/path`. */
  readonly addr: string;
  /** Relative weight (an integer ≥ 0). Weight 0 is never a first pick. */
  readonly weight: number;
  /** User data (Pingora's `Extensions`): ignored by equality, ordering and `hashKey()`. */
  readonly ext: Map<unknown, unknown> = new Map();
  /**
   * The address parsed for `new HttpPeer(backend.address, …)` (no parsing per request);
   * `${backend.address}` prints `ip:port`, `[ipv6]:port` or the socket path.
   */
  readonly address: PeerAddress;
  /** 4, 6, or 0 for a Unix socket. */
  readonly family: 0 | 4 | 6;
  readonly #key: string;
  readonly #order: string;

  /**
   * @param addr an IP socket address or `unix:/path`; a `PingoraError` (InternalError) otherwise.
   * @param weight an integer ≥ 0, default 1.
   */
  constructor(addr: string, weight = 1) {
    if (!Number.isInteger(weight) || weight < 0 || weight > 0xffffffff) {
      throw invalid(addr, `weight must be an integer in 0..2^32-1, got ${weight}`);
    }
    if (addr.startsWith('unix:') || addr.startsWith('/')) {
      const path = addr.startsWith('unix:') ? addr.slice(5) : addr;
      if (path.length === 0) throw invalid(addr, 'empty Unix socket path');
      this.addr = `unix:${path}`;
      this.family = 0;
      this.#order = `u${path}`;
    } else {
      let bucket: Bucket;
      try {
        bucket = new Bucket(addr, 1);
      } catch (e) {
        throw invalid(
          addr,
          'expected "ip:port", "[ipv6]:port" or "unix:/path" (host names are not resolved here)',
          e,
        );
      }
      this.addr = bucket.addr;
      this.family = bucket.family;
      const ip =
        bucket.family === 4
          ? bucket.ip
              .split('.')
              .map((n) => Number(n).toString(16).padStart(2, '0'))
              .join('')
          : ipv6Hex(bucket.ip);
      this.#order = `${bucket.family}${ip}${bucket.port.toString(16).padStart(4, '0')}`;
    }
    this.weight = weight;
    this.address = parsePeerAddress(this.addr);
    this.#key = `${this.addr}#${weight}`;
  }

  /** Pingora's `Backend::new(addr)`: weight 1. */
  static new(addr: string): Backend {
    return new Backend(addr, 1);
  }

  /** Pingora's `Backend::new_with_weight(addr, weight)`. */
  static newWithWeight(addr: string, weight: number): Backend {
    return new Backend(addr, weight);
  }

  /**
   * The key of this backend in the health table and in-flight counters: address and weight.
   * Unlike Pingora's `DefaultHasher` u64 it is a readable string, stable across processes, so
   * health verdicts can be sent from one checker process to every worker.
   */
  hashKey(): string {
    return this.#key;
  }

  /** Same address and weight (`ext` is ignored). */
  equals(other: Backend): boolean {
    return this.#key === other.#key;
  }

  /** Pingora's `Ord`: negative when `a` sorts before `b`. */
  static compare(a: Backend, b: Backend): number {
    if (a.#order !== b.#order) return a.#order < b.#order ? -1 : 1;
    return a.weight - b.weight;
  }

  /** Pingora's `Debug` shape, used in health-check log lines. */
  toString(): string {
    return `Backend { addr: ${this.addr}, weight: ${this.weight} }`;
  }
}

/**
 * Sorts and de-duplicates backends the way Pingora's `BTreeSet<Backend>` holds them (the first of
 * two equal backends is kept).
 */
export function sortedBackends(input: Iterable<Backend>): Backend[] {
  const seen = new Set<string>();
  const out: Backend[] = [];
  for (const b of input) {
    if (!(b instanceof Backend)) throw new TypeError('load-balancing: expected Backend instances');
    const k = b.hashKey();
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(b);
  }
  return out.sort(Backend.compare);
}
