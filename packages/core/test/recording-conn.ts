/**
 * A raw client connection for the HTTP/1.x timeout and closing tests: it records what it
 * receives, when it closed and the error it closed with, and waits only on its own events.
 *
 * Its `closed` never rejects: a server that answers and closes while the client is still sending
 * may be answered by the kernel with a reset, and the tests decide for themselves whether a reset
 * is a failure (`error`), rather than every wait failing on it.
 */
import * as net from 'node:net';
import { afterEach } from 'vitest';
import type { Service } from '../src/services/listening.js';

/** A client connection recording what it receives, when it closed and why. */
export class RecordingConn {
  readonly socket: net.Socket;
  data = '';
  /** `performance.now()` when the connection closed. */
  closedAt: number | undefined;
  /** The error the connection closed with (a reset, a refused write), if any. */
  error: NodeJS.ErrnoException | undefined;
  /** The server's end of the stream arrived (a clean close, as opposed to a reset). */
  ended = false;
  /** Resolves when the connection has closed, whatever closed it. */
  readonly closed: Promise<void>;
  private readonly waiters: Array<() => void> = [];
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(port: number, options: { allowHalfOpen?: boolean } = {}) {
    this.socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: options.allowHalfOpen });
    this.socket.setEncoding('latin1');
    this.socket.on('data', (c: string) => {
      this.data += c;
      this.wake();
    });
    this.socket.on('end', () => {
      this.ended = true;
      this.wake();
    });
    this.socket.on('error', (e: NodeJS.ErrnoException) => {
      this.error ??= e;
    });
    this.closed = new Promise((resolve) => {
      this.socket.once('close', () => {
        this.closedAt = performance.now();
        for (const t of this.timers.splice(0)) clearInterval(t);
        this.wake();
        resolve();
      });
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves on the next thing this connection sees: data, the server's end, or the close. */
  private next(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /**
   * Waits until the received data includes `test` (or passes it, for a function); fails if the
   * connection closes first.
   */
  async until(test: string | ((data: string) => boolean)): Promise<string> {
    const done = typeof test === 'string' ? (d: string) => d.includes(test) : test;
    while (!done(this.data)) {
      if (this.closedAt !== undefined) throw new Error(`closed with ${JSON.stringify(this.data)}`);
      await this.next();
    }
    return this.data;
  }

  /** Waits until the server's end of the stream arrives; fails if the connection closes first. */
  async untilEnded(): Promise<void> {
    while (!this.ended) {
      if (this.closedAt !== undefined)
        throw new Error(`closed (${this.error?.code}) before the server's end`);
      await this.next();
    }
  }

  /** Writes `byte` every `everyMs` while the connection is writable, until it closes. */
  trickle(everyMs: number, byte = 'b'): void {
    const t = setInterval(() => {
      if (this.socket.writable) this.socket.write(byte);
    }, everyMs);
    this.timers.push(t);
  }

  /** Closes the connection and stops its trickle. */
  destroy(): void {
    for (const t of this.timers.splice(0)) clearInterval(t);
    this.socket.destroy();
  }
}

/** The connections a test file opened, closed together after each test. */
export class RecordingConns {
  private readonly open: RecordingConn[] = [];

  /** Opens a connection to `port` and keeps it for {@link destroyAll}. */
  connect(port: number, options?: { allowHalfOpen?: boolean }): RecordingConn {
    return this.track(new RecordingConn(port, options));
  }

  /** Keeps `c` for {@link destroyAll}. */
  track<C extends RecordingConn>(c: C): C {
    this.open.push(c);
    return c;
  }

  /** Closes every connection opened since the last call. */
  destroyAll(): void {
    for (const c of this.open.splice(0)) c.destroy();
  }
}

/**
 * The services and connections of one test file, stopped and closed after each test. Call it once
 * at the file's top level: it registers the `afterEach` that does so.
 */
export function closedAfterEach(): { services: Service[]; conns: RecordingConns } {
  const services: Service[] = [];
  const conns = new RecordingConns();
  afterEach(async () => {
    conns.destroyAll();
    await Promise.all(services.splice(0).map((s) => s.stop(false, 0)));
  });
  return { services, conns };
}

/** Resolves when `p` does; rejects after `ms` (a cap, never a wait a test relies on). */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const cap = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([p, cap]).finally(() => clearTimeout(timer));
}
