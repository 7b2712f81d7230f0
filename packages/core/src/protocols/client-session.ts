/**
 * A pull-style client over one upstream connection, Pingora's client API
 * (`examples/client.rs`): write the request, then await the response header and each body
 * chunk. Convenient for standalone clients and health checks; the proxy uses the push-style
 * `UpstreamSession` contract directly.
 */
import { ErrorType, PingoraError } from '@pingora-ts/error';
import type { RequestHeader, ResponseHeader } from '@pingora-ts/http';
import { DEFAULT_READ_TIMEOUT, DEFAULT_WRITE_TIMEOUT } from '../upstream/peer-options.js';
import type {
  BodyMode,
  ExchangeTimeouts,
  UpstreamResponseHandler,
  UpstreamSession,
} from './upstream-session.js';

type Waiter = { resolve: (v: unknown) => void; reject: (e: unknown) => void };

/**
 * Reads one response at a time from an {@link UpstreamSession} (HTTP/1.x or HTTP/2: the header's
 * `version` says which). Waits are bounded by the read and write timeouts, 60 s each by default as
 * in `PeerOptions`, so a silent origin fails the read instead of holding the caller forever. Give
 * the peer's options to apply its timeouts, or `{ readTimeout: undefined }` to wait without limit.
 *
 * @example
 * ```ts
 * const [conn] = await connector.getHttpSession(peer);
 * const session = new ClientSession(conn, peer.options);
 * const req = RequestHeader.build('GET', '/');
 * req.insertHeader('Host', 'example.com');
 * session.writeRequestHeader(req);
 * const resp = await session.readResponseHeader();
 * for (let c; (c = await session.readResponseBody()) !== undefined; ) process.stdout.write(c);
 * connector.releaseHttpSession(conn, peer);
 * ```
 */
export class ClientSession implements UpstreamResponseHandler {
  /** The read and write timeouts each exchange gets, ms (`undefined` = none). */
  readonly timeouts: ExchangeTimeouts;
  private head: ResponseHeader | undefined;
  private readonly chunks: Buffer[] = [];
  private trailers: string[] | undefined;
  private ended = false;
  private error: PingoraError | undefined;
  private waiter: Waiter | undefined;
  private mode: BodyMode = 'none';

  /**
   * @param conn the connection (from `Connector.getHttpSession`)
   * @param timeouts a timeout left out gets the `PeerOptions` default (60 s); one given as
   *   `undefined` is disabled
   */
  constructor(
    readonly conn: UpstreamSession,
    timeouts: Partial<ExchangeTimeouts> = {},
  ) {
    this.timeouts = {
      readTimeout: 'readTimeout' in timeouts ? timeouts.readTimeout : DEFAULT_READ_TIMEOUT,
      writeTimeout: 'writeTimeout' in timeouts ? timeouts.writeTimeout : DEFAULT_WRITE_TIMEOUT,
    };
  }

  /**
   * Sends the request head. A body is expected when the header has Content-Length (sent as is)
   * or Transfer-Encoding (streamed; chunk-encoded for you on HTTP/1.1); finish it with
   * {@link finishRequestBody}.
   */
  writeRequestHeader(req: RequestHeader): void {
    const h = req.headers;
    this.mode =
      h.get('transfer-encoding') !== undefined
        ? 'stream'
        : h.get('content-length') !== undefined
          ? 'length'
          : 'none';
    this.conn.sendRequest(req, this, this.mode, this.timeouts);
  }

  /** Sends request body bytes. */
  writeRequestBody(chunk: Buffer): boolean {
    return this.conn.writeBody(chunk);
  }

  /** Ends the request body. */
  finishRequestBody(): void {
    this.conn.finishBody();
  }

  /** The response header once it arrived. */
  responseHeader(): ResponseHeader | undefined {
    return this.head;
  }

  /** Trailer fields of the response, after the body ended. */
  responseTrailers(): string[] | undefined {
    return this.trailers;
  }

  /** Waits for the response header. */
  async readResponseHeader(): Promise<ResponseHeader> {
    while (this.head === undefined) await this.wait();
    return this.head;
  }

  /** The next body chunk, or `undefined` at the end of the body. */
  async readResponseBody(): Promise<Buffer | undefined> {
    for (;;) {
      const c = this.chunks.shift();
      if (c !== undefined) {
        if (this.chunks.length === 0) this.conn.resumeResponse();
        return c;
      }
      if (this.ended) return undefined;
      await this.wait();
    }
  }

  // --- UpstreamResponseHandler ---

  onResponseHeader(resp: ResponseHeader): void {
    this.head = resp;
    this.wake();
  }

  onResponseBody(chunk: Buffer): void {
    this.chunks.push(chunk);
    // Hold further reads until the caller takes what is buffered.
    this.conn.pauseResponse();
    this.wake();
  }

  onResponseTrailers(rawTrailers: string[]): void {
    this.trailers = rawTrailers;
  }

  onResponseEnd(): void {
    this.ended = true;
    this.wake();
  }

  onError(error: PingoraError): void {
    this.error = error;
    this.wake();
  }

  private wait(): Promise<void> {
    if (this.error !== undefined) return Promise.reject(this.error);
    if (this.waiter !== undefined) {
      return Promise.reject(PingoraError.explain(ErrorType.InternalError, 'ClientSession: concurrent reads'));
    }
    return new Promise((resolve, reject) => {
      this.waiter = { resolve: resolve as (v: unknown) => void, reject };
    });
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    if (w === undefined) return;
    if (this.error !== undefined) w.reject(this.error);
    else w.resolve(undefined);
  }
}
