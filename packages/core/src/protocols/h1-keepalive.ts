/**
 * Per-request keep-alive control of an HTTP/1.x response (`setKeepalive`): close after this
 * response, or give this connection its own idle timeout. Made only when a request asks, so a
 * plain request carries none of it. It leans on two node:http details, named where they are used.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

// node:http's per-response keep-alive timeout, which its `Keep-Alive: timeout=N` field advertises.
type KeepaliveResponse = ServerResponse & { _keepAliveTimeout?: number };

/** @internal The keep-alive choices one response made. */
export class H1Keepalive {
  // Keep-alive as node decided it, saved when `set(undefined)` first turned it off.
  private before: boolean | undefined = undefined;
  // Idle timeout asked for (ms); -1 until a number was given.
  private ms = -1;

  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
  ) {}

  /** `undefined` closes after the response; a number of seconds sets this connection's idle timeout. */
  set(seconds: number | undefined): void {
    const res = this.res as KeepaliveResponse;
    if (seconds === undefined) {
      if (this.before === undefined) this.before = res.shouldKeepAlive;
      res.shouldKeepAlive = false;
      return;
    }
    // A number never re-enables keep-alive that the client or a shutdown turned off.
    if (this.before !== undefined) res.shouldKeepAlive = this.before;
    // node advertises this in `Keep-Alive: timeout=N` (none for 0: no idle timeout).
    if (res._keepAliveTimeout !== undefined) res._keepAliveTimeout = seconds * 1000;
    if (this.ms < 0) res.once('finish', this.onFinish);
    this.ms = seconds * 1000;
  }

  // node's own 'finish' handler ran first (it was registered before the request event) and armed
  // the server's keep-alive timeout on the socket: this replaces its duration. Only a timeout node
  // armed is replaced, as node disarms only that one when the next request arrives (a pipelined
  // request already waiting gets none, and must not get one).
  private readonly onFinish = (): void => {
    const socket = this.req.socket as (Socket & { timeout?: number }) | null;
    if (socket == null || socket.destroyed) return;
    if (this.res.shouldKeepAlive && (socket.timeout ?? 0) > 0) socket.setTimeout(this.ms);
  };
}
