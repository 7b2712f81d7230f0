/**
 * The main process's listening sockets when the server runs worker processes: bound once here, the
 * nginx way, and inherited by every worker, which accepts on them. The main process never accepts:
 * it binds without listening (libuv only polls a socket it was asked to listen on), so it holds the
 * sockets for replacement workers and for the next upgrade and nothing more. A worker's `listen()`
 * puts the shared socket in the listening state; until the first worker does, a connection is
 * refused, as it would be before any server starts.
 */
import { lookup } from 'node:dns/promises';
import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import { getSystemErrorName } from 'node:util';
import { ErrorType } from '@pingora-ts/error';
import { describeOsError, lineError } from '../error-text.js';
import { describeListener, type ListenerConfig, parseTcpAddress } from '../services/listener.js';
import type { ListenFds } from './listen-fds.js';

interface RawHandle {
  readonly fd: number;
  close(): void;
  getsockname?(out: { port?: number }): number;
}

type CreateServerHandle = (
  address: string | null,
  port: number,
  addressType: number,
  fd?: number,
  flags?: number,
) => RawHandle | number;

// Node's own bind-without-listen primitive (what its cluster module hands to workers); it returns
// a negative errno instead of throwing.
const createServerHandle = (net as unknown as { _createServerHandle?: CreateServerHandle })
  ._createServerHandle;

// libuv's UV_TCP_IPV6ONLY.
const TCP_IPV6ONLY = 1;

/** Whether this Node can bind sockets for worker processes. */
export const workerListenersSupported = typeof createServerHandle === 'function';

/**
 * Bind every listener in `cfgs` that `fds` does not already hold (inherited from a previous
 * server), adding each to `fds`. Returns the handles, to close at exit. Throws a one-line
 * `BindError` naming the address.
 */
export async function bindForWorkers(cfgs: readonly ListenerConfig[], fds: ListenFds): Promise<RawHandle[]> {
  if (createServerHandle === undefined)
    throw new Error(
      'this Node cannot bind sockets for worker processes (net._createServerHandle is missing)',
    );
  const handles: RawHandle[] = [];
  try {
    for (const cfg of cfgs) {
      const addr = describeListener(cfg);
      if (fds.claim(addr) !== undefined) continue;
      const handle = await bindOne(createServerHandle, cfg);
      handles.push(handle);
      fds.add(addr, handle.fd);
    }
  } catch (err) {
    for (const h of handles) h.close();
    throw err;
  }
  return handles;
}

async function bindOne(create: CreateServerHandle, cfg: ListenerConfig): Promise<RawHandle> {
  const fail = (err: unknown): never => {
    throw lineError(
      ErrorType.BindError,
      `cannot listen on ${describeListener(cfg)}: ${describeOsError(err)}`,
      err,
    );
  };
  let result: RawHandle | number;
  if (cfg.kind === 'uds') {
    try {
      if (lstatSync(cfg.path, { throwIfNoEntry: false })?.isSocket()) unlinkSync(cfg.path);
    } catch (err) {
      fail(err);
    }
    result = create(cfg.path, -1, -1);
  } else {
    const { host, port } = parseTcpAddress(cfg.addr);
    let ip = host;
    if (net.isIP(host) === 0) {
      try {
        ip = (await lookup(host)).address;
      } catch (err) {
        fail(err);
      }
    }
    const family = net.isIPv6(ip) ? 6 : 4;
    result = create(ip, port, family, undefined, cfg.options?.ipv6Only === true ? TCP_IPV6ONLY : 0);
  }
  if (typeof result === 'number') {
    const code = getSystemErrorName(result);
    return fail(Object.assign(new Error(code), { code, errno: result }));
  }
  if (cfg.kind === 'tcp' && !tcpBound(result)) {
    result.close();
    // libuv defers a bind's EADDRINUSE to listen(), which only the workers call: detect it here.
    return fail(
      Object.assign(new Error('EADDRINUSE'), { code: 'EADDRINUSE', errno: -os.constants.errno.EADDRINUSE }),
    );
  }
  if (cfg.kind === 'uds') {
    try {
      chmodSync(cfg.path, cfg.mode ?? 0o666);
    } catch (err) {
      result.close();
      fail(err);
    }
  }
  return result;
}

function tcpBound(handle: RawHandle): boolean {
  const out: { port?: number } = {};
  if (handle.getsockname === undefined) return true;
  return handle.getsockname(out) === 0 && typeof out.port === 'number' && out.port > 0;
}
