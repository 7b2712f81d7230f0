/**
 * `EchoApp`: the raw TCP app of Pingora's `examples/server.rs`, also the fixture the service and
 * server tests run. It writes every byte back with backpressure and half-closes when the client does.
 */
import type * as net from 'node:net';
import type { ServerApp } from './server-app.js';

/**
 * Echoes each connection back to itself. A graceful shutdown does not interrupt it: an open echo
 * session is in-flight work and may run until the grace period ends.
 *
 * @example
 * ```ts
 * const echo = new Service('Echo Service', new EchoApp());
 * echo.addTcp('127.0.0.1:6142');
 * server.addService(echo);
 * ```
 */
export class EchoApp implements ServerApp {
  /** Connections served so far. */
  served = 0;

  processNew(stream: net.Socket): void {
    this.served++;
    // pipe() ends our side when the client ends its side, and backs off while the client is slow.
    stream.pipe(stream);
  }
}
