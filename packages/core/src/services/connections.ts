/**
 * Per-connection bookkeeping of a listening service: the set of live sockets (to drain or destroy
 * them on shutdown) and the connection filter that runs on accept, before any byte is read.
 */
import type * as net from 'node:net';
import { SocketAddr } from '../socket-addr.js';

/**
 * The client of a new connection, as given to a {@link ConnectionFilter}: a {@link SocketAddr},
 * so `${remote}` prints `ip:port`. Over a Unix socket `family` is `'unix'`, `address` is `''`
 * and it prints `(unnamed)`, as a client end has no path.
 */
export type RemoteAddress = SocketAddr;

/**
 * Accept (true) or reject (false) a connection by client address (Pingora's `ConnectionFilter`).
 * It runs before TLS or HTTP parsing; a throw or a rejected promise rejects the connection.
 *
 * @example
 * ```ts
 * const blocked = new Set(['203.0.113.7']);
 * service.setConnectionFilter(({ address }) => !blocked.has(address));
 * ```
 */
export type ConnectionFilter = (remote: RemoteAddress) => boolean | Promise<boolean>;

/** The remote end of an accepted socket. */
export function remoteOf(socket: net.Socket): RemoteAddress {
  const { remoteAddress: address, remotePort: port, remoteFamily: family } = socket;
  return address === undefined ? SocketAddr.unix('') : new SocketAddr(address, port ?? 0, family ?? 'IPv4');
}

/**
 * Run `filter` and report through `decide` (synchronously when the filter is synchronous):
 * `accept` true or false, and the error when the filter failed.
 */
export function applyFilter(
  filter: ConnectionFilter,
  remote: RemoteAddress,
  decide: (accept: boolean, err?: unknown) => void,
): void {
  let verdict: boolean | Promise<boolean>;
  try {
    verdict = filter(remote);
  } catch (err) {
    decide(false, err);
    return;
  }
  if (typeof verdict === 'boolean') decide(verdict);
  else
    verdict.then(
      (ok) => decide(ok === true),
      (err: unknown) => decide(false, err),
    );
}

/**
 * The first 'error' listener of every accepted socket, so a peer's reset never becomes an uncaught
 * error while nothing else listens. An app that attaches its own handler for good may remove it:
 * one listener fewer on every idle connection.
 */
export function acceptErrorGuard(): void {}

/** The live sockets of one service, and a way to wait until there are none. */
export class ConnectionTracker {
  readonly sockets = new Set<net.Socket>();
  #drained: (() => void) | undefined;
  // One 'close' listener per tracker (`this` is the socket), not a closure or a `once` wrapper
  // per connection: 'close' is emitted once anyway.
  readonly #onClose: (this: net.Socket) => void;

  constructor() {
    const tracker = this;
    this.#onClose = function (this: net.Socket) {
      tracker.delete(this);
    };
  }

  /** Track `socket` until it emits 'close'. */
  add(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', this.#onClose);
  }

  /** Forget `socket`; resolves a pending {@link ConnectionTracker.drained} when it was the last. */
  delete(socket: net.Socket): void {
    this.sockets.delete(socket);
    if (this.sockets.size === 0) this.#drained?.();
  }

  /** Resolves once every tracked socket has closed. */
  drained(): Promise<void> {
    if (this.sockets.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#drained = resolve;
    });
  }

  /** Destroy every tracked socket (each then emits 'close' and is forgotten). */
  destroyAll(): void {
    for (const socket of this.sockets) socket.destroy();
  }
}
