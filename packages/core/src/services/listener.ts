/**
 * Listener configuration and binding: what a listening `Service` listens on (TCP address, with
 * TLS settings for a TLS listener, or Unix socket path), the socket options Node can apply, and
 * the bind procedure (stale Unix socket removal, permissions, `EADDRINUSE` retries).
 */
import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import * as net from 'node:net';
import { ErrorType, PingoraError } from '@pingora-ts/error';
import type { TlsSettings } from '@pingora-ts/tls-openssl';
import { describeOsError, lineError } from '../error-text.js';
import type { Logger } from '../logger.js';
import { listenFds } from '../server/listen-fds.js';
import { listeningFd } from '../server/upgrade/fd-passing.js';

/**
 * Options for accepted TCP sockets and their listening socket (Pingora's `TcpSocketOptions`,
 * restricted to what Node exposes: no TCP Fast Open, DSCP, buffer sizes or keepalive count/interval).
 */
export interface TcpSocketOptions {
  /** Pending-connection queue length. Default 65535 as in Pingora; the kernel caps it at `somaxconn`. */
  backlog?: number;
  /** Disable Nagle's algorithm on accepted sockets. Default true. */
  noDelay?: boolean;
  /** Enable TCP keepalive probes on accepted sockets; `idleMs` is the delay before the first (0: OS default). */
  tcpKeepalive?: { idleMs?: number };
  /** For `[::]` listeners: accept IPv6 only (no IPv4-mapped connections). */
  ipv6Only?: boolean;
  /**
   * `SO_REUSEPORT`, so several processes can listen on the same port with kernel load balancing.
   * Honoured only where {@link reusePortSupported} is true (Node >= 22.12 or 23.1, on Linux/BSD);
   * elsewhere Node would silently ignore it, so the service logs a warning and binds without it.
   */
  reusePort?: boolean;
}

/**
 * Where a service listens: a TCP address (a TLS listener when `tls` is set: each connection
 * completes its handshake before the app sees it) or a Unix socket.
 */
export type ListenerConfig =
  | {
      readonly kind: 'tcp';
      readonly addr: string;
      readonly options?: TcpSocketOptions | undefined;
      readonly tls?: TlsSettings | undefined;
    }
  | { readonly kind: 'uds'; readonly path: string; readonly mode?: number | undefined };

/** Constructors for {@link ListenerConfig} (Pingora's `ListenerConfig::tcp` / `::uds` / `.tls()`). */
export const ListenerConfig = {
  /** A TCP listener on `addr` (`"0.0.0.0:6188"`, `"[::1]:8080"`, `"localhost:0"`). */
  tcp(addr: string, options?: TcpSocketOptions): ListenerConfig {
    parseTcpAddress(addr);
    return { kind: 'tcp', addr, options };
  },
  /** A TLS listener on `addr` with `settings` (certificate, ALPN, client certificates…). */
  tls(addr: string, settings: TlsSettings, options?: TcpSocketOptions): ListenerConfig {
    parseTcpAddress(addr);
    return { kind: 'tcp', addr, options, tls: settings };
  },
  /** A Unix domain socket at `path` with permission bits `mode` (default 0o666). */
  uds(path: string, mode = 0o666): ListenerConfig {
    return { kind: 'uds', path, mode };
  },
};

/** An address a service is actually bound to (with the real port when 0 was asked for). */
export type ListenAddress =
  | { readonly kind: 'tcp'; readonly address: string; readonly port: number; readonly family: string }
  | { readonly kind: 'uds'; readonly path: string };

/** `"127.0.0.1:6188"`, `"[::1]:6188"` or the socket path: the form Pingora prints. */
export function formatAddress(a: ListenAddress): string {
  if (a.kind === 'uds') return a.path;
  return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

const [MAJOR = 0, MINOR = 0] = process.versions.node.split('.').map(Number);
/** Whether this Node honours `reusePort` on listen (it silently ignores it before 22.12 / 23.1). */
export const reusePortSupported =
  (MAJOR > 23 || (MAJOR === 23 && MINOR >= 1) || (MAJOR === 22 && MINOR >= 12)) &&
  ['linux', 'freebsd', 'sunos', 'aix'].includes(process.platform);

/** Split `host:port`; IPv6 hosts must be bracketed. Throws a `BindError` naming the address. */
export function parseTcpAddress(addr: string): { host: string; port: number } {
  const bad = (why: string): never => {
    throw PingoraError.explain(ErrorType.BindError, `invalid listen address "${addr}": ${why}`);
  };
  let host: string;
  let portText: string;
  if (addr.startsWith('[')) {
    const end = addr.indexOf(']');
    if (end < 0 || addr[end + 1] !== ':') return bad('expected "[ipv6]:port"');
    host = addr.slice(1, end);
    portText = addr.slice(end + 2);
    if (net.isIPv6(host) === false) return bad(`"${host}" is not an IPv6 address`);
  } else {
    const colon = addr.lastIndexOf(':');
    if (colon < 0) return bad('expected "host:port"');
    host = addr.slice(0, colon);
    portText = addr.slice(colon + 1);
    if (host.includes(':')) return bad('put IPv6 addresses in brackets, e.g. "[::1]:8080"');
  }
  if (host === '') return bad('missing host (use 0.0.0.0 or [::] for all interfaces)');
  const port = Number(portText);
  if (!/^\d{1,5}$/.test(portText) || port > 65535) return bad(`"${portText}" is not a port number`);
  return { host, port };
}

/** How `EADDRINUSE` is retried while binding. */
export interface BindRetry {
  /** Extra attempts after the first. */
  retries: number;
  /** Wait between attempts. */
  delayMs: number;
}

/** Label of a listener config for logs and errors. */
export function describeListener(cfg: ListenerConfig): string {
  return cfg.kind === 'tcp' ? cfg.addr : cfg.path;
}

function listenOnce(server: net.Server, options: net.ListenOptions, backlog?: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => {
      server.off('listening', onListening);
      reject(err);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    if (backlog === undefined) server.listen(options);
    else server.listen(options, backlog);
  });
}

/** Remove a leftover socket file (as Pingora does); refuse to remove anything that is not a socket. */
function removeStaleSocket(path: string): void {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return; // nothing there
  }
  if (!isSocket) throw new Error(`${path} exists and is not a socket`);
  unlinkSync(path);
}

/**
 * Bind `server` as `cfg` says. Resolves once listening; after `retry.retries` extra attempts for
 * `EADDRINUSE`, throws a `BindError` (cause: the system error) whose message is one line naming
 * the address and the OS error: `cannot listen on 127.0.0.1:8080: address already in use (EADDRINUSE)`.
 */
export async function bindListener(
  server: net.Server,
  cfg: ListenerConfig,
  retry: BindRetry,
  sleep: (ms: number) => Promise<void>,
): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      if (cfg.kind === 'uds') {
        removeStaleSocket(cfg.path);
        await listenOnce(server, { path: cfg.path });
        chmodSync(cfg.path, cfg.mode ?? 0o666);
      } else {
        const { host, port } = parseTcpAddress(cfg.addr);
        const o = cfg.options ?? {};
        const options: net.ListenOptions & { reusePort?: boolean } = {
          host,
          port,
          backlog: o.backlog ?? 65535,
          ipv6Only: o.ipv6Only ?? false,
        };
        if (o.reusePort === true && reusePortSupported) options.reusePort = true;
        await listenOnce(server, options);
      }
      return;
    } catch (err) {
      if (err instanceof PingoraError) throw err;
      const inUse = (err as NodeJS.ErrnoException).code === 'EADDRINUSE';
      if (inUse && attempt < retry.retries) {
        await sleep(retry.delayMs);
        continue;
      }
      throw lineError(
        ErrorType.BindError,
        `cannot listen on ${describeListener(cfg)}: ${describeOsError(err)}`,
        err,
      );
    }
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Create the `net.Server` for `cfg` with its socket options and bind it ({@link bindListener}).
 * Once listening, an 'error' on it can only be an accept failure (EMFILE, ENFILE…): it is logged
 * and the server keeps accepting.
 */
export async function openListener(
  cfg: ListenerConfig,
  onConnection: (socket: net.Socket) => void,
  retry: BindRetry,
  logger: Logger,
): Promise<net.Server> {
  const addr = describeListener(cfg);
  const o = cfg.kind === 'tcp' ? (cfg.options ?? {}) : {};
  if (o.reusePort === true && !reusePortSupported) logger.warn({ addr }, 'reusePort is not supported here');
  const server = net.createServer(
    {
      noDelay: o.noDelay ?? true,
      keepAlive: o.tcpKeepalive !== undefined,
      keepAliveInitialDelay: o.tcpKeepalive?.idleMs ?? 0,
    },
    onConnection,
  );
  try {
    const inherited = listenFds.claim(addr);
    if (inherited !== undefined) await adopt(server, cfg, inherited);
    else {
      await bindListener(server, cfg, retry, sleep);
      const fd = fdOf(server);
      if (fd !== undefined) listenFds.add(addr, fd);
    }
  } catch (err) {
    server.close();
    throw err;
  }
  const fd = fdOf(server);
  if (fd !== undefined) server.once('close', () => listenFds.deleteFd(fd));
  server.on('error', (err) => logger.error({ err, addr }, 'accept failed; still accepting'));
  return server;
}

/**
 * Listen on a socket another process bound (a worker's main process, the server this one
 * replaces): nothing is bound, so no connection is refused during the hand-over.
 */
async function adopt(server: net.Server, cfg: ListenerConfig, fd: number): Promise<void> {
  try {
    const backlog = cfg.kind === 'tcp' ? (cfg.options?.backlog ?? 65535) : undefined;
    // Node reads an fd handle's backlog from the second argument only.
    await listenOnce(server, { fd } as net.ListenOptions, backlog);
    if (cfg.kind === 'uds') chmodSync(cfg.path, cfg.mode ?? 0o666);
  } catch (err) {
    throw lineError(
      ErrorType.BindError,
      `cannot listen on inherited socket ${describeListener(cfg)} (fd ${fd}): ${describeOsError(err)}`,
      err,
    );
  }
}

// Where the platform hides a listening socket's fd, the socket cannot be handed over: it is
// simply not recorded for upgrades.
function fdOf(server: net.Server): number | undefined {
  try {
    return listeningFd(server);
  } catch {
    return undefined;
  }
}

/** Where `server` is bound, or undefined when it is not listening. */
export function boundAddress(server: net.Server): ListenAddress | undefined {
  const a = server.address();
  if (a === null) return undefined;
  return typeof a === 'string' ? { kind: 'uds', path: a } : { kind: 'tcp', ...a };
}
