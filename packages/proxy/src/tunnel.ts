/**
 * After a 101 (WebSocket and other upgrades) the proxy stops speaking HTTP and splices the two
 * sockets. Whatever happens to one side — close, error, idle timeout — happens to the other, so a
 * tunnel can never leak a socket or a file descriptor (the classic http-proxy WebSocket leak).
 */
import type { Socket } from 'node:net';
import { type FastTimer, fastTimeout } from '@pingora-ts/timeout';

/**
 * Splices `client` and `upstream`. `clientHead`/`upstreamHead` are bytes each side sent after the
 * HTTP head (already read by the parsers). `done` runs once, when both sockets are closed.
 */
export function tunnel(
  client: Socket,
  clientHead: Buffer,
  upstream: Socket,
  upstreamHead: Buffer | undefined,
  done: (error: undefined) => void,
  idleTimeoutMs?: number,
): void {
  let closed = 0;
  let timer: FastTimer | undefined;
  const destroyBoth = () => {
    timer?.clear();
    client.destroy();
    upstream.destroy();
  };
  const onClose = () => {
    // One side is gone: the tunnel is over for both.
    destroyBoth();
    if (++closed === 2) done(undefined);
  };
  client.on('error', destroyBoth);
  upstream.on('error', destroyBoth);
  client.once('close', onClose);
  upstream.once('close', onClose);
  if (idleTimeoutMs !== undefined && idleTimeoutMs > 0) {
    timer = fastTimeout(destroyBoth, idleTimeoutMs);
    const touch = () => timer?.refresh();
    client.on('data', touch);
    upstream.on('data', touch);
  }
  if (clientHead.length > 0) upstream.write(clientHead);
  if (upstreamHead !== undefined && upstreamHead.length > 0) client.write(upstreamHead);
  client.pipe(upstream);
  upstream.pipe(client);
  client.resume();
  upstream.resume();
}
