/**
 * The contract between a listening `Service` and the protocol code it drives (Pingora's
 * `ServerApp`). The service owns accepting, the connection filter, socket options, tracking and
 * shutdown; the app owns what is spoken on the socket. HTTP apps implement this same interface.
 */
import type * as net from 'node:net';
import type { ShutdownWatch } from '../server/shutdown.js';

/**
 * An application served by a listening `Service`.
 *
 * @example
 * ```ts
 * // A raw TCP app: reply with the peer's address, then close.
 * const app: ServerApp = {
 *   processNew(socket) {
 *     socket.end(`${socket.remoteAddress}\n`);
 *   },
 * };
 * const svc = new Service('whoami', app);
 * svc.addTcp('127.0.0.1:7000');
 * ```
 */
export interface ServerApp {
  /**
   * Called once per accepted connection (after the connection filter and socket options; later
   * also after a TLS handshake). Must attach its own error handling; the service already attached
   * a no-op 'error' guard before calling. A throw or a rejected promise is logged by the service
   * and the socket destroyed.
   */
  processNew(stream: net.Socket, shutdown: ShutdownWatch): void | Promise<void>;
  /**
   * Graceful shutdown started: stop keep-alive, close idle connections; in-flight work continues.
   * Fast shutdown: abort. Called again with `false` if a graceful shutdown is escalated.
   */
  onShutdown?(graceful: boolean): void;
  /** Called once after the service has fully stopped. */
  cleanup?(): void | Promise<void>;
}
