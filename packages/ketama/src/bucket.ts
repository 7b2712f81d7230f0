/**
 * `Bucket`: one server on the ring and its weight, Pingora's `Bucket::new(SocketAddr, u32)`.
 * It keeps both the canonical address (what lookups return) and the text as written, because
 * nginx hashes the text of its `server` line while Pingora hashes the parsed address.
 */
import { type ParsedAddr, parseSocketAddr } from './address.js';

/**
 * A server and its weight. Each weight unit puts 160 points on the ring, so a bucket of weight
 * 3 receives about three times the keys of a bucket of weight 1.
 *
 * @example
 * ```ts
 * import { Bucket } from '@pingora-ts/ketama';
 *
 * new Bucket('10.0.0.1:443', 1);
 * new Bucket('[2001:db8::1]:443', 3);
 * new Bucket('10.0.0.1:443', 0); // throws RangeError: weight must be an integer >= 1
 * ```
 */
export class Bucket {
  /** Canonical `"ip:port"` (`"[v6]:port"` for IPv6): the value lookups return. */
  readonly addr: string;
  /** The IP without brackets, canonical form (`::1`). */
  readonly ip: string;
  readonly port: number;
  readonly family: 4 | 6;
  /** Integer ≥ 1. */
  readonly weight: number;
  /** The address exactly as given, like the argument of an nginx `server` directive. */
  readonly server: string;
  readonly #parsed: ParsedAddr;

  /**
   * @param addr `"ip:port"` or `"[ipv6]:port"`; a `TypeError` for anything else (host names,
   *   missing port, zone ids, port > 65535).
   * @param weight integer from 1 to 2^32-1 (Pingora's `u32`); a `RangeError` otherwise.
   */
  constructor(addr: string, weight: number) {
    if (typeof weight !== 'number' || !Number.isInteger(weight) || weight < 1 || weight > 0xffffffff) {
      throw new RangeError(
        `ketama: weight must be an integer >= 1, got ${String(weight)} for ${JSON.stringify(addr)}`,
      );
    }
    this.#parsed = parseSocketAddr(addr);
    this.ip = this.#parsed.ip;
    this.port = this.#parsed.port;
    this.family = this.#parsed.family;
    this.addr = this.family === 6 ? `[${this.ip}]:${this.port}` : `${this.ip}:${this.port}`;
    this.weight = weight;
    this.server = addr;
  }

  /**
   * The text hashed for this bucket's points, before the NUL and the port. nginx: the host part of
   * the `server` text (`[::1]`, brackets included); Pingora: the canonical IP (`::1`).
   * @internal
   */
  hashHost(compat: 'nginx' | 'pingora'): string {
    return compat === 'nginx' ? this.#parsed.hostText : this.ip;
  }

  /** The port text hashed after the NUL: as written for nginx, decimal for Pingora. @internal */
  hashPort(compat: 'nginx' | 'pingora'): string {
    return compat === 'nginx' ? this.#parsed.portText : String(this.port);
  }

  /** `"addr weight=n"`, like a line of an nginx upstream block. */
  toString(): string {
    return `${this.addr} weight=${this.weight}`;
  }
}
