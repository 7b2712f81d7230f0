/**
 * Downstream HTTP/2 connections: an h2 session per accepted socket (TLS with ALPN h2, or h2c with
 * prior knowledge), each stream turned into an {@link H2ServerSession} and handed to a dispatcher.
 * It also owns what HTTP/2 adds to the connection lifecycle: the h2c preface sniff on plaintext
 * ports shared with HTTP/1, idle closing, GOAWAY on graceful shutdown, and destruction on a fast one.
 */
import http2, { type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import { type FastTimer, fastTimeout } from '@pingora-ts/timeout';
import { type Logger, levelEnabled } from '../logger.js';
import { scanRequestFields } from './h2-request-fields.js';
import { type H2DownstreamConnection, H2ServerSession } from './h2-server-session.js';

const { NGHTTP2_PROTOCOL_ERROR } = http2.constants;

/** The client connection preface of RFC 9113 §3.4. */
export const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** Settings of the downstream HTTP/2 side. */
export interface H2ServerConnectionsOptions {
  /** node:http2 session options (`settings`, `maxSessionMemory`, `maxHeaderListPairs`, …). */
  sessionOptions?: http2.ServerSessionOptions;
  /** A connection with no open stream for this long is closed with GOAWAY, ms; 0 disables. */
  idleTimeoutMs: number;
  /** Let `CONNECT` through to the app instead of answering 405. */
  allowConnect: boolean;
  logger: Logger;
}

/** Default SETTINGS_MAX_CONCURRENT_STREAMS we advertise (nginx uses 128 too). */
export const DEFAULT_H2_MAX_CONCURRENT_STREAMS = 128;

interface Conn extends H2DownstreamConnection {
  readonly session: ServerHttp2Session;
}

/**
 * Waits for the first bytes of a plaintext connection and tells whether they are the h2 preface.
 * The bytes are put back (`unshift`) before `done` runs, so either protocol reads them again.
 * A connection that sends nothing decisive within `timeoutMs` is closed.
 */
export function sniffH2Preface(socket: Socket, timeoutMs: number, done: (h2: boolean) => void): void {
  let seen: Buffer | undefined;
  let timer: FastTimer | undefined;
  const finish = (h2: boolean | undefined) => {
    socket.off('data', onData);
    socket.off('close', onClose);
    timer?.clear();
    if (h2 === undefined) return;
    socket.pause();
    if (seen !== undefined) socket.unshift(seen);
    done(h2);
  };
  const onData = (chunk: Buffer) => {
    seen = seen === undefined ? chunk : Buffer.concat([seen, chunk]);
    const n = Math.min(seen.length, H2_PREFACE.length);
    if (seen.compare(H2_PREFACE, 0, n, 0, n) !== 0) finish(false);
    else if (n === H2_PREFACE.length) finish(true);
  };
  const onClose = () => finish(undefined);
  socket.on('data', onData);
  socket.once('close', onClose);
  if (timeoutMs > 0) {
    timer = fastTimeout(() => {
      finish(undefined);
      socket.destroy();
    }, timeoutMs);
  }
}

/** All live downstream HTTP/2 connections of one `HttpServer`. */
export class H2ServerConnections {
  private readonly conns = new Set<Conn>();
  private readonly sessionOptions: http2.ServerSessionOptions;
  private draining = false;

  constructor(
    private readonly dispatch: (session: H2ServerSession) => void,
    private readonly options: H2ServerConnectionsOptions,
  ) {
    const o = options.sessionOptions ?? {};
    this.sessionOptions = {
      ...o,
      settings: { maxConcurrentStreams: DEFAULT_H2_MAX_CONCURRENT_STREAMS, ...o.settings },
    };
  }

  /** Open connections. */
  get size(): number {
    return this.conns.size;
  }

  /** Starts HTTP/2 on `socket` (its preface may already sit in its read buffer). */
  accept(socket: Socket): void {
    const session = http2.performServerHandshake(socket, this.sessionOptions);
    const conn: Conn = { socket, session, active: 0 };
    session.on('error', (err: NodeJS.ErrnoException) => {
      const logger = this.options.logger;
      if (levelEnabled(logger, 'debug'))
        logger.debug({ err, client: socket.remoteAddress }, 'h2 downstream session error');
    });
    session.on('stream', (stream: ServerHttp2Stream, _h: unknown, _f: number, raw: string[]) =>
      this.onStream(conn, stream, raw),
    );
    session.once('close', () => this.conns.delete(conn));
    this.conns.add(conn);
    const idle = this.options.idleTimeoutMs;
    if (idle > 0) {
      session.setTimeout(idle, () => {
        if (conn.active === 0) session.close();
      });
    }
    if (this.draining) session.close();
  }

  /** Graceful: GOAWAY now, each connection closes when its streams are done. Fast: destroy all. */
  shutdown(graceful: boolean): void {
    if (graceful) this.draining = true;
    for (const { session } of [...this.conns]) {
      if (graceful) {
        if (!session.closed) session.close();
      } else {
        session.destroy();
      }
    }
  }

  private onStream(conn: Conn, stream: ServerHttp2Stream, raw: string[]): void {
    // Before anything else: a client's RST must never become an uncaught 'error'.
    stream.on('error', noop);
    conn.active++;
    const scan = scanRequestFields(raw);
    const session = new H2ServerSession(stream, raw, scan, conn);
    if (scan.malformed !== undefined) {
      this.refuse(conn, stream, scan.malformed);
      return;
    }
    let method: string;
    try {
      method = session.reqHeader().method;
    } catch (e) {
      this.refuse(conn, stream, (e as Error).message);
      return;
    }
    if (method === 'CONNECT' && !this.options.allowConnect) {
      this.options.logger.warn({ client: conn.socket.remoteAddress }, 'CONNECT refused (405)');
      session.respondError(405);
      return;
    }
    this.dispatch(session);
  }

  // RFC 9113 §8.1.1: a malformed request is a stream error of type PROTOCOL_ERROR.
  private refuse(conn: Conn, stream: ServerHttp2Stream, why: string): void {
    this.options.logger.warn(
      { client: conn.socket.remoteAddress, stream: stream.id },
      `rejected malformed h2 request (RST_STREAM PROTOCOL_ERROR): ${why}`,
    );
    stream.close(NGHTTP2_PROTOCOL_ERROR);
  }
}

function noop(): void {}
