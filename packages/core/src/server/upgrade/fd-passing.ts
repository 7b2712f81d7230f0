/**
 * Graceful-upgrade socket hand-over, Pingora's protocol (Linux). The new process (`-u`) listens on
 * `upgrade_sock`; on SIGQUIT the old process connects and sends, in one `sendmsg`, its listen
 * addresses joined by a space with the listening fds attached (`SCM_RIGHTS`) in the same order.
 * Node cannot pass fds between unrelated processes, so the primitives live in an optional C++
 * addon (`native/`, built by `pnpm run build:native`); without it {@link loadFdPassing} returns
 * `undefined` and an upgrade binds fresh.
 */
import { existsSync, linkSync, renameSync, unlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Server } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { getSystemErrorName } from 'node:util';

/** Largest address list Pingora's receiver reads, in UTF-8 bytes. */
export const MAX_UPGRADE_PAYLOAD_BYTES = 2048;
/** Most listening sockets one upgrade hands over (Pingora's limit). */
export const MAX_UPGRADE_FDS = 32;

/** What the old process sent: the address list and the received fds, in order. */
export interface ReceivedMessage {
  payload: string;
  fds: number[];
}

/**
 * The synchronous primitives of the addon. Failures throw Node-style errors with `code`
 * (`'ENOENT'`, `'ECONNREFUSED'`, ...), `syscall` and `path`.
 */
export interface FdPassing {
  /** Unlink a stale `path`, then bind a non-blocking Unix stream socket there (mode 0666, backlog 8); returns its fd. */
  listenUpgradeSocket(path: string): number;
  /**
   * Wait up to `timeoutMs` for a connection, read its one message and close it. Received fds are
   * close-on-exec (no leak to unrelated children); `net.Server.listen({ fd })` and `spawn`'s
   * `stdio: [..., fd]` (which duplicates the fd into the child) both still work. `undefined` on timeout.
   */
  acceptAndReceive(listenFd: number, timeoutMs: number): ReceivedMessage | undefined;
  /** Connect to `path` (non-blocking: never waits on a full backlog) and send `payload` with `fds`. */
  connectAndSend(path: string, payload: string, fds: readonly number[]): void;
  /** Close an fd (the upgrade socket, or a received fd that is not adopted). */
  closeFd(fd: number): void;
}

const ABI = 1;
const ADDON = 'native/build/Release/pingora_fd_passing.node';
let cached: FdPassing | null | undefined = null;

/** Node's shape for a system error thrown by the addon (`errno` arrives positive). */
function withCode(err: unknown): unknown {
  const e = err as NodeJS.ErrnoException;
  if (!(e instanceof Error) || typeof e.errno !== 'number' || e.code !== undefined) return err;
  let code = `E${e.errno}`;
  try {
    code = getSystemErrorName(-e.errno);
  } catch {
    // an errno Node does not name keeps the numeric form
  }
  e.code = code;
  e.errno = -e.errno;
  e.message = `${e.syscall} ${code}${e.path ? ` ${e.path}` : ''}`;
  return e;
}

function wrap(raw: FdPassing): FdPassing {
  const call = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      throw withCode(err);
    }
  };
  return Object.freeze({
    listenUpgradeSocket: (path: string) => call(() => raw.listenUpgradeSocket(path)),
    acceptAndReceive: (fd: number, ms: number) => call(() => raw.acceptAndReceive(fd, ms)),
    connectAndSend: (path: string, payload: string, fds: readonly number[]) =>
      call(() => raw.connectAndSend(path, payload, fds)),
    closeFd: (fd: number) => call(() => raw.closeFd(fd)),
  });
}

function load(): FdPassing | undefined {
  if (process.env.PINGORA_TS_NATIVE === '0') return undefined;
  // From src/server/upgrade/ in the workspace, from dist/ once bundled; the CJS bundle has no import.meta.
  const from = typeof __filename === 'string' ? __filename : import.meta.url;
  const require = createRequire(from);
  for (const prefix of ['../../../', '../']) {
    try {
      const raw = require(prefix + ADDON) as FdPassing & { abi?: number };
      if (raw.abi === ABI) return wrap(raw);
    } catch {
      // not built here (or not loadable on this platform): try the other layout
    }
  }
  return undefined;
}

/**
 * The fd-passing addon, or `undefined` when it is not built, not loadable, or disabled by
 * `PINGORA_TS_NATIVE=0`. Loaded once.
 */
export function loadFdPassing(): FdPassing | undefined {
  if (cached === null) cached = load();
  return cached;
}

/** Whether graceful upgrades can hand sockets over ({@link loadFdPassing} found the addon). */
export function fdPassingAvailable(): boolean {
  return loadFdPassing() !== undefined;
}

/** Retry policy and addon for {@link receiveListenFds} and {@link sendListenFds}. */
export interface UpgradeSocketOptions {
  /** Further attempts after the first (Pingora: 5). */
  retries?: number;
  /** Wait per attempt, ms (Pingora: 1000). */
  intervalMs?: number;
  /** The primitives; defaults to {@link loadFdPassing}, which must then find the addon. */
  fdPassing?: FdPassing;
}

function retryPolicy(options: UpgradeSocketOptions): { retries: number; intervalMs: number } {
  const { retries = 5, intervalMs = 1000 } = options;
  if (!Number.isInteger(retries) || retries < 0)
    throw new RangeError(`retries must be an integer >= 0, got ${retries}`);
  if (!Number.isFinite(intervalMs) || intervalMs < 0) {
    throw new RangeError(`intervalMs must be a finite number >= 0, got ${intervalMs}`);
  }
  return { retries, intervalMs };
}

function addon(options: UpgradeSocketOptions): FdPassing {
  const fdp = options.fdPassing ?? loadFdPassing();
  if (fdp === undefined) {
    const why =
      process.env.PINGORA_TS_NATIVE === '0' ? 'it is disabled by PINGORA_TS_NATIVE=0' : 'it is not built';
    throw new Error(
      `graceful upgrade needs the fd-passing addon of @pingora-ts/core, but ${why} (build it with \`pnpm --filter @pingora-ts/core run build:native\`)`,
    );
  }
  return fdp;
}

/**
 * Pingora's receiving side, run by the new process at startup: listen on `path`, wait up to
 * `(retries + 1) * intervalMs` for the old process, then close and unlink the socket. Returns
 * address string → fd; adopt each with `net.createServer().listen({ fd })` and close the rest.
 * Blocks the event loop while it waits, as Pingora's bootstrap does: call it before serving.
 *
 * @example
 * ```ts
 * const fds = receiveListenFds(conf.upgradeSock);
 * const fd = fds.get('0.0.0.0:6188');
 * server.listen(fd === undefined ? { host: '0.0.0.0', port: 6188 } : { fd });
 * ```
 */
export function receiveListenFds(path: string, options: UpgradeSocketOptions = {}): Map<string, number> {
  const { retries, intervalMs } = retryPolicy(options);
  const fdp = addon(options);
  const failed = `graceful upgrade: receiving listening sockets on ${path} failed`;
  let listenFd: number;
  try {
    listenFd = fdp.listenUpgradeSocket(path);
  } catch (err) {
    throw oneLine(err, failed);
  }
  let got: ReceivedMessage | undefined;
  try {
    for (let attempt = 0; attempt <= retries && got === undefined; attempt++) {
      got = fdp.acceptAndReceive(listenFd, intervalMs);
    }
  } catch (err) {
    throw oneLine(err, failed);
  } finally {
    fdp.closeFd(listenFd);
    unlinkQuietly(path);
  }
  if (got === undefined) {
    throw Object.assign(
      new Error(
        `graceful upgrade: no listening sockets arrived on ${path} within ${(retries + 1) * intervalMs} ms; is the old server running with the same upgrade_sock, and was it sent SIGQUIT?`,
      ),
      { code: 'ETIMEDOUT', path },
    );
  }
  const addresses = got.payload.split(/\s+/).filter((a) => a !== '');
  if (addresses.length !== got.fds.length) {
    for (const fd of got.fds) closeQuietly(fdp, fd);
    throw new Error(
      `graceful upgrade: the old process sent ${addresses.length} addresses but ${got.fds.length} sockets on ${path}`,
    );
  }
  const map = new Map<string, number>();
  addresses.forEach((address, i) => {
    const previous = map.get(address);
    if (previous !== undefined) closeQuietly(fdp, previous); // a repeated address: the last one wins
    map.set(address, got.fds[i]!);
  });
  return map;
}

/** Called before each retry of {@link sendListenFds}, with the error and the attempt (1-based) that failed. */
export type UpgradeRetryListener = (err: NodeJS.ErrnoException, attempt: number) => void;

const RETRYABLE = new Set(['ENOENT', 'ECONNREFUSED', 'EACCES', 'EAGAIN']);

/**
 * Pingora's sending side, run by the old process on SIGQUIT: one message to `path` with the
 * addresses joined by a space and the fds in the same order. Retries while the new process is not
 * listening yet (`ENOENT`, `ECONNREFUSED`, `EACCES`, and `EAGAIN` for a full backlog). With no
 * entries nothing is sent, as in Pingora.
 *
 * @example
 * ```ts
 * await sendListenFds(conf.upgradeSock, [['0.0.0.0:6188', listeningFd(tcpServer)]]);
 * ```
 */
export async function sendListenFds(
  path: string,
  entries: ReadonlyArray<readonly [address: string, fd: number]>,
  options: UpgradeSocketOptions & { onRetry?: UpgradeRetryListener } = {},
): Promise<void> {
  if (entries.length > MAX_UPGRADE_FDS) {
    throw new RangeError(
      `graceful upgrade: ${entries.length} listening sockets, at most ${MAX_UPGRADE_FDS} can be handed over`,
    );
  }
  for (const [address, fd] of entries) {
    if (typeof address !== 'string' || address === '' || /\s/.test(address)) {
      throw new TypeError(
        `graceful upgrade: address ${JSON.stringify(address)} must be non-empty without whitespace`,
      );
    }
    if (!Number.isInteger(fd) || fd < 0)
      throw new TypeError(`graceful upgrade: fd of ${address} must be an integer >= 0, got ${fd}`);
  }
  const payload = entries.map(([address]) => address).join(' ');
  const bytes = Buffer.byteLength(payload);
  if (bytes > MAX_UPGRADE_PAYLOAD_BYTES) {
    throw new RangeError(
      `graceful upgrade: the address list is ${bytes} bytes, at most ${MAX_UPGRADE_PAYLOAD_BYTES} fit`,
    );
  }
  const { retries, intervalMs } = retryPolicy(options);
  if (entries.length === 0) return;
  const fdp = addon(options);
  const fds = entries.map(([, fd]) => fd);
  for (let attempt = 1; ; attempt++) {
    try {
      fdp.connectAndSend(path, payload, fds);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      if (!RETRYABLE.has(code) || attempt > retries) {
        throw oneLine(
          err,
          `graceful upgrade: sending listening sockets to ${path} failed after ${attempt} attempt(s)`,
        );
      }
      options.onRetry?.(err as NodeJS.ErrnoException, attempt);
      await sleep(intervalMs);
    }
  }
}

/**
 * The fd of a listening `net.Server` (TCP or Unix socket), to hand over with {@link sendListenFds}.
 * Throws when the server is not listening, or when the platform or a cluster worker hides the fd.
 */
export function listeningFd(server: Server): number {
  const handle = (server as unknown as { _handle?: { fd?: unknown } | null })._handle;
  if (!server.listening || !handle) {
    throw new Error('listeningFd: the server is not listening (call it after its "listening" event)');
  }
  const { fd } = handle;
  if (typeof fd !== 'number' || fd < 0) {
    throw new Error(
      `listeningFd: the listening socket's fd is not available here (${process.platform}${process.env.NODE_UNIQUE_ID ? ', cluster worker' : ''})`,
    );
  }
  return fd;
}

/**
 * Close a server whose sockets were handed over without removing its Unix socket path. Node
 * unlinks the path of a Unix socket it bound when the server closes, which would leave the new
 * process's copy unreachable; a hard link made just before keeps the path (the gap is one
 * synchronous `rename`). TCP and adopted (`{ fd }`) servers just close.
 *
 * @example
 * ```ts
 * await sendListenFds(conf.upgradeSock, [['/tmp/echo.sock', listeningFd(uds)]]);
 * closeServerKeepingPath(uds, () => logger.info('stopped accepting on /tmp/echo.sock'));
 * ```
 */
export function closeServerKeepingPath(server: Server, callback?: (err?: Error) => void): void {
  const path = server.address();
  const keep = typeof path === 'string' && path !== '' ? `${path}.${process.pid}.keep` : undefined;
  let linked = false;
  if (keep !== undefined) {
    try {
      unlinkQuietly(keep);
      linkSync(path as string, keep);
      linked = true;
    } catch {
      // the path is already gone (or the directory is read-only): nothing to keep
    }
  }
  try {
    server.close(callback);
  } finally {
    if (linked) {
      try {
        renameSync(keep!, path as string);
      } catch {
        // left as is: the path could not be restored
      }
      // rename() between two links of one file does nothing: drop the spare name.
      if (existsSync(keep!)) unlinkQuietly(keep!);
    }
  }
}

function oneLine(err: unknown, context: string): Error {
  const e = err instanceof Error ? err : new Error(String(err));
  e.message = `${context}: ${e.message.split('\n')[0]}`;
  return e;
}

function closeQuietly(fdp: FdPassing, fd: number): void {
  try {
    fdp.closeFd(fd);
  } catch {
    // already closed: nothing left to release
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
