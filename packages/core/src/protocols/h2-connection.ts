/**
 * One HTTP/2 connection to an origin, shared by up to `maxStreams` concurrent exchanges (each an
 * {@link H2ClientSession}). It counts stream slots for the pool, notices when the connection can
 * no longer take new streams (GOAWAY, close, error, a missed PING) and tells the pool, so a
 * draining or dead session is never handed out again: the next request opens a fresh one.
 */
import http2, { type ClientHttp2Session } from 'node:http2';
import type { Socket } from 'node:net';
import { H2ClientSession } from './h2-client.js';

/** Settings of an upstream HTTP/2 connection. */
export interface H2ConnectionOptions {
  /** Streams this side opens at once at most (`PeerOptions.maxH2Streams`). */
  maxStreams: number;
  /** Interval of PING keep-alives, ms (`PeerOptions.h2PingInterval`); a PING unanswered by the next tick kills the connection. */
  pingInterval: number | undefined;
  /** `:scheme` of requests. */
  scheme: 'http' | 'https';
  /** The peer allows HTTP/1.1 (ALPN `h2h1`), so `H2Downgrade`/`InvalidH2` may be retried over it. */
  allowH1: boolean;
  /** Called once when the origin asked for HTTP/1.1 or spoke invalid HTTP/2. */
  onPreferH1?: () => void;
  /** node:http2 session options (settings, memory limit). */
  sessionOptions?: http2.ClientSessionOptions;
}

const NO_ERROR = http2.constants.NGHTTP2_NO_ERROR;

/** An upstream HTTP/2 connection. Get streams from a `Connector`, not from here. */
export class H2ClientConnection {
  readonly session: ClientHttp2Session;
  /** Streams handed out and not yet finished. */
  active = 0;
  /** Streams handed out so far. */
  streamsOpened = 0;
  /** No new streams: GOAWAY received, closing, or dead. */
  draining = false;
  /** Error code of a GOAWAY received, if any. */
  goawayCode: number | undefined = undefined;
  /** The session finished its handshake (the origin's SETTINGS arrived). */
  connected = false;
  /** The session failed with this error. */
  sessionError: Error | undefined = undefined;
  /** Pool hook: called when a slot frees or the connection becomes unusable. */
  onChange: ((conn: H2ClientConnection) => void) | undefined = undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private pingPending = false;
  private preferH1Reported = false;

  constructor(
    readonly socket: Socket,
    readonly reuseKey: string,
    readonly options: H2ConnectionOptions,
  ) {
    const so = options.sessionOptions;
    this.session = http2.connect(`${options.scheme}://localhost`, {
      ...so,
      settings: { enablePush: false, ...so?.settings },
      createConnection: () => socket,
    });
    const s = this.session;
    s.on('error', this.onError);
    s.on('goaway', this.onGoaway);
    s.once('close', this.onClose);
    s.on('remoteSettings', this.onRemoteSettings);
    const ping = options.pingInterval;
    if (ping !== undefined && ping > 0) {
      this.pingTimer = setInterval(this.onPingTick, ping);
      this.pingTimer.unref();
    }
  }

  /** Concurrent streams allowed now: ours and the origin's limit, whichever is lower. */
  get capacity(): number {
    const theirs = this.session.remoteSettings?.maxConcurrentStreams;
    const ours = this.options.maxStreams;
    return theirs !== undefined && theirs < ours ? theirs : ours;
  }

  /** Whether new streams may go to this connection. */
  get usable(): boolean {
    const s = this.session;
    return !this.draining && !s.closed && !s.destroyed;
  }

  /** Whether a stream slot is free. */
  get hasFreeSlot(): boolean {
    return this.active < this.capacity && this.usable;
  }

  /** Takes a stream slot. `reused`: the slot came from the pool (for `ReusedOnly` retries). */
  reserve(reused: boolean): H2ClientSession {
    this.active++;
    this.streamsOpened++;
    const s = new H2ClientSession(this, reused);
    this.onChange?.(this);
    return s;
  }

  /** @internal A stream gave its slot back. */
  slotFreed(): void {
    this.active--;
    this.onChange?.(this);
  }

  /** Stops new streams; the session closes once its streams are done (GOAWAY to the origin). */
  close(): void {
    this.markDraining();
    if (!this.session.closed && !this.session.destroyed) this.session.close();
  }

  /** Closes at once; open streams fail. */
  destroy(): void {
    this.markDraining();
    if (!this.session.destroyed) this.session.destroy();
  }

  /** @internal No new streams from now on. */
  markDraining(): void {
    if (this.draining) return;
    this.draining = true;
    this.onChange?.(this);
  }

  /** @internal The origin asked for HTTP/1.1 or broke HTTP/2: report it once (Pingora's `prefer_h1`). */
  reportPreferH1(): void {
    if (this.preferH1Reported) return;
    this.preferH1Reported = true;
    this.options.onPreferH1?.();
  }

  // The first SETTINGS proves the origin speaks HTTP/2. A raised stream limit may free slots for
  // waiting requests; a lowered one is enforced by nghttp2.
  private readonly onRemoteSettings = (): void => {
    this.connected = true;
    this.onChange?.(this);
  };

  private readonly onGoaway = (code: number): void => {
    this.goawayCode ??= code;
    this.markDraining();
  };

  private readonly onError = (err: Error): void => {
    this.sessionError ??= err;
    this.markDraining();
  };

  private readonly onClose = (): void => {
    if (this.pingTimer !== undefined) clearInterval(this.pingTimer);
    this.markDraining();
    if (!this.socket.destroyed) this.socket.destroy();
  };

  private readonly onPingTick = (): void => {
    const s = this.session;
    if (s.closed || s.destroyed) return;
    if (this.pingPending) {
      // The previous PING went unanswered for a whole interval: the origin or the path is gone.
      this.sessionError ??= new Error('h2 PING timed out');
      this.destroy();
      return;
    }
    this.pingPending = true;
    try {
      s.ping((err) => {
        if (err === null) this.pingPending = false;
      });
    } catch {
      this.destroy();
    }
  };

  /** @internal Whether a GOAWAY said the origin is shutting down cleanly. */
  get goneAwayCleanly(): boolean {
    return this.goawayCode === NO_ERROR;
  }
}
