/**
 * The raw-socket HTTP/1.x engine of an `HttpServer` (`h1Engine: 'pingora'`, the default): settings
 * shared by all its connections, the set of live connections (for graceful shutdown), and the
 * hand-off of each parsed request to the app.
 */
import type { Socket } from 'node:net';
import type { Logger } from '../logger.js';
import { H1RawConnection } from './h1-raw-connection.js';
import type { H1RawSession } from './h1-raw-session.js';
import { DEFAULT_REQUEST_LIMITS, type RequestParserLimits } from './h1-request-parser.js';
import type { H1SessionOptions } from './h1-server-session.js';

/** Settings of the raw engine, from `HttpServerOptions`. */
export interface H1RawServerOptions {
  readonly sessionOptions: H1SessionOptions;
  /** Idle time between requests, ms; 0 = none. */
  readonly keepaliveMs: number;
  /** Time to receive a request head, ms; 0 = none. */
  readonly headersTimeout: number;
  /** Time to receive a whole request (head and body), ms; 0 = none. */
  readonly requestTimeout: number;
  /** Longest wait for the client's next byte while a closing connection lingers, ms; 0 = none. */
  readonly lingeringTimeout: number;
  /** Longest a closing connection lingers in all, ms. */
  readonly lingeringTime: number;
  /** Largest request head, bytes. */
  readonly maxHeaderSize: number;
  /** Requests served per connection before it closes. */
  readonly requestLimit: number | undefined;
  readonly allowConnect: boolean;
  readonly logger: Logger;
}

/** How long idle keep-alive connections stay open once a graceful shutdown starts (as node's path). */
const IDLE_CLOSE_DELAY_MS = 1000;

/** @internal The raw engine of one `HttpServer`. */
export class H1RawServer {
  readonly sessionOptions: H1SessionOptions;
  readonly keepaliveMs: number;
  readonly headersTimeout: number;
  readonly requestTimeout: number;
  readonly lingeringTimeout: number;
  readonly lingeringTime: number;
  readonly requestLimit: number | undefined;
  readonly allowConnect: boolean;
  readonly logger: Logger;
  readonly limits: RequestParserLimits;
  /** A graceful shutdown started: responses say `Connection: close`. */
  draining = false;
  private readonly connections = new Set<H1RawConnection>();
  private drainTimer: NodeJS.Timeout | undefined = undefined;

  constructor(
    options: H1RawServerOptions,
    /** Runs the app for a parsed request. */
    readonly dispatch: (session: H1RawSession) => void,
  ) {
    this.sessionOptions = options.sessionOptions;
    this.keepaliveMs = options.keepaliveMs;
    this.headersTimeout = options.headersTimeout;
    this.requestTimeout = options.requestTimeout;
    this.lingeringTimeout = options.lingeringTimeout;
    this.lingeringTime = options.lingeringTime;
    this.requestLimit = options.requestLimit;
    this.allowConnect = options.allowConnect;
    this.logger = options.logger;
    this.limits = { maxHeadBytes: options.maxHeaderSize, maxHeaders: DEFAULT_REQUEST_LIMITS.maxHeaders };
  }

  /** Serves HTTP/1.x on an accepted socket (after any h2c sniff). */
  accept(socket: Socket): void {
    socket.setNoDelay(true);
    this.connections.add(new H1RawConnection(socket, this));
  }

  /** @internal A connection closed or was taken over. */
  forget(conn: H1RawConnection): void {
    this.connections.delete(conn);
  }

  /** Live connections (upgraded ones excluded). */
  get size(): number {
    return this.connections.size;
  }

  /**
   * Graceful: busy connections close after their response, idle ones from IDLE_CLOSE_DELAY_MS on
   * (closing at once races a client already sending its next request), swept every 250 ms as more
   * become idle. Otherwise every connection is closed now.
   */
  shutdown(graceful: boolean): void {
    if (!graceful) {
      for (const c of this.connections) c.socket.destroy();
      return;
    }
    if (this.draining) return;
    this.draining = true;
    const sweep = () => {
      for (const c of this.connections) c.closeIfIdle();
    };
    this.drainTimer = setTimeout(() => {
      sweep();
      this.drainTimer = setInterval(sweep, 250);
      this.drainTimer.unref();
    }, IDLE_CLOSE_DELAY_MS);
    this.drainTimer.unref();
  }

  /** Stops the shutdown sweep. */
  stop(): void {
    if (this.drainTimer !== undefined) clearInterval(this.drainTimer);
  }
}
