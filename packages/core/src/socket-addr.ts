/**
 * Addresses that print as text. A connection's ends ({@link SocketAddr}) and an upstream's
 * address (`PeerAddress`, in `upstream/peer.ts`) are plain data with the fields code already
 * reads, plus `toString()` (so `${addr}` and log lines show `10.0.0.1:80`, `[::1]:80` or a socket
 * path) and `toJSON()` (so JSON logs show the same text instead of an object).
 */

/** `host:port`, with an IPv6 host in brackets: the form every address here prints as. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** What a Unix socket prints as: its path, or `(unnamed)` for an unbound client end. */
export function formatUnixPath(path: string): string {
  return path === '' ? '(unnamed)' : path;
}

/**
 * One end of a connection: an IP address and port, or a Unix socket. `family` uses Node's names
 * (`'IPv4'`, `'IPv6'`) and `'unix'`; for a Unix socket `address` is the path too, and `port` is 0.
 *
 * @example
 * ```ts
 * const client = session.clientAddr();
 * logger.info({ client }, 'request');  // {"client":"[2001:db8::1]:51234", ...}
 * `${SocketAddr.inet('127.0.0.1', 80)}`; // "127.0.0.1:80"
 * ```
 */
export class SocketAddr {
  /** The IP address (no brackets), or the Unix socket path. */
  readonly address: string;
  /** The port; 0 for a Unix socket. */
  readonly port: number;
  /** `'IPv4'`, `'IPv6'` or `'unix'` (typed `string` so Node's own values fit). */
  readonly family: string;
  /** The Unix socket path (`''` when unnamed); absent for an IP address. */
  readonly path?: string;
  // The text, made on first use: an access line formats the same client and upstream address on
  // every request of a connection, and the fields above never change.
  #text: string | undefined;

  /** Prefer {@link SocketAddr.inet} and {@link SocketAddr.unix}. */
  constructor(address: string, port: number, family: string, path?: string) {
    this.address = address;
    this.port = port;
    this.family = family;
    if (path !== undefined) this.path = path;
  }

  /** An IP address and port; the family follows from the address. */
  static inet(address: string, port: number): SocketAddr {
    return new SocketAddr(address, port, address.includes(':') ? 'IPv6' : 'IPv4');
  }

  /** A Unix socket; `''` for the unnamed end a client usually has. */
  static unix(path: string): SocketAddr {
    return new SocketAddr(path, 0, 'unix', path);
  }

  /** `ip:port`, `[ipv6]:port`, or the socket path. */
  toString(): string {
    if (this.#text === undefined) {
      this.#text =
        this.family === 'unix'
          ? formatUnixPath(this.path ?? this.address)
          : formatHostPort(this.address, this.port);
    }
    return this.#text;
  }

  /** The same text as {@link SocketAddr.toString}, for JSON log lines. */
  toJSON(): string {
    return this.toString();
  }
}

// Node reports no address for either end of a Unix socket connection, so the listening service
// notes the path of each socket it accepts on one; weak, so nothing outlives the socket.
const unixPaths = new WeakMap<object, string>();

/** Record that `socket` was accepted on the Unix socket at `path` (called by the listening service). */
export function noteUnixPath(socket: object, path: string): void {
  unixPaths.set(socket, path);
}

/** The Unix socket path `socket` was accepted on, if {@link noteUnixPath} recorded one. */
export function unixPathOf(socket: object): string | undefined {
  return unixPaths.get(socket);
}

/** Node's three address fields of a socket end (`remoteAddress`… or `localAddress`…). */
interface NodeEnd {
  address: string | undefined;
  port: number | undefined;
  family: string | undefined;
}

/**
 * A {@link SocketAddr} from what Node reports for one end of a socket. Node reports nothing for
 * a Unix socket, so `unixPath` (the listener's path, or `''`) stands in; `undefined` means the
 * socket no longer knows its address.
 */
export function socketAddrOf(end: NodeEnd, unixPath?: string): SocketAddr | undefined {
  if (end.address !== undefined) {
    const family = end.family ?? (end.address.includes(':') ? 'IPv6' : 'IPv4');
    return new SocketAddr(end.address, end.port ?? 0, family);
  }
  return unixPath === undefined ? undefined : SocketAddr.unix(unixPath);
}
