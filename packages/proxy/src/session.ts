/**
 * The proxy's `Session`: the downstream request and response (an `HttpServerSession` from core)
 * plus what the proxy tracks for one request — retries, the upstream peer, byte counters, and a
 * child logger made only if someone asks for it. Phases receive this object.
 */
import {
  type Digest,
  HttpModuleCtx,
  type HttpPeer,
  type HttpServerSession,
  type Logger,
  ResponseCompression,
  ResponseCompressionBuilder,
  type ShutdownWatch,
  type SocketAddr,
} from '@pingora-ts/core';
import { HttpCache, type WritePermit } from '@pingora-ts/cache';
import type { RequestHeader, ResponseHeader } from '@pingora-ts/http';
import { ModuleResponseWriter } from './module-response.js';
import { RequestBodyBuffer } from './request-body.js';

let nextRequestId = 1;

// Pingora's upstream compression starts disabled: level 0, no decompression.
const UPSTREAM_COMPRESSION = ResponseCompressionBuilder.enable(0);

/**
 * How the latest upstream attempt went, in ms (`performance.now()` differences). A request that
 * never reached `upstreamPeer` (answered by `requestFilter`, say) has none.
 */
export interface UpstreamTiming {
  /** The attempt ran on a pooled connection, so `connect` and `tlsHandshake` are 0. */
  reused: boolean;
  /** TCP connect, DNS included; on a failed connect, the time until it failed. */
  connect: number;
  /** TLS handshake; 0 for plaintext peers. */
  tlsHandshake: number;
  /** From sending the request to the first byte of the response; -1 when none arrived. */
  firstByte: number;
  /** From asking for a connection to the end of the upstream response or the failure; -1 while running. */
  total: number;
}

/**
 * One proxied request. Header access is lazy and mutation is in place; writes go straight to the
 * downstream connection.
 */
export class Session {
  /** The downstream HTTP session (HTTP/1.x or HTTP/2). */
  readonly downstream: HttpServerSession;
  /** Attempts made so far (1 for the first). */
  tries = 0;
  /** The peer of the latest attempt. */
  upstreamPeer: HttpPeer | undefined = undefined;
  /** Whether the latest attempt reused a pooled connection. */
  upstreamReused = false;
  /** Response body bytes received from upstream. */
  upstreamBodyBytesReceived = 0;
  /** Status sent downstream for a failed request (0 = none); set by the error path. */
  errorStatus = 0;
  /**
   * The response header had gone out when the request failed, so the downstream connection (or
   * HTTP/2 stream) was aborted: the client saw a truncated response, not `errorStatus`.
   */
  responseAborted = false;
  // The latest attempt's timing as plain numbers (no object per request until someone asks).
  // Stage: 0 choosing a peer, 1 connecting, 2 connected.
  /** @internal */ attemptStage = 0;
  /** @internal */ upstreamStart = 0;
  /** @internal */ upstreamConnectTime = 0;
  /** @internal */ upstreamTlsTime = 0;
  /** @internal */ upstreamFirstByte = -1;
  /** @internal */ upstreamTotal = -1;
  /**
   * This request's downstream modules (Pingora's `downstream_modules_ctx`), one instance of each
   * module registered by `initDownstreamModules`; `undefined` when the proxy has none.
   */
  downstreamModules: HttpModuleCtx | undefined = undefined;
  /** @internal The upstream compression as a one-module context; made by {@link upstreamCompression}. */
  upstreamCompressionCtx: HttpModuleCtx | undefined = undefined;
  /** @internal A response written by the user through the modules (see {@link writeResponseHeader}). */
  moduleResponse: ModuleResponseWriter | undefined = undefined;
  private requestBody: RequestBodyBuffer | undefined;
  private httpCache: HttpCache | undefined = undefined;
  /**
   * @internal Set on a background refresh: the write lock its parent request took for the stale
   * asset, handed over at the lookup.
   */
  refreshPermit: WritePermit | undefined = undefined;
  private readonly parentLogger: Logger;
  private readonly shutdown: ShutdownWatch;
  private child: Logger | undefined;
  private id = 0;

  constructor(downstream: HttpServerSession, logger: Logger, shutdown: ShutdownWatch) {
    this.downstream = downstream;
    this.parentLogger = logger;
    this.shutdown = shutdown;
    // One reader of the body: reads through `downstream` go to the retry buffer too, which then
    // knows some of the body will not be forwarded (and streams the rest with chunked framing).
    if (downstream.hasRequestBody) downstream.setRequestBodyReader(this.body);
  }

  /**
   * @internal Request body state shared by attempts (the retry buffer); made with the session when
   * the request has a body (it is the downstream's body reader), else on first use.
   */
  get body(): RequestBodyBuffer {
    let b = this.requestBody;
    if (b === undefined) this.requestBody = b = new RequestBodyBuffer(this.downstream);
    return b;
  }

  /** @internal The request body state if anything used it (no allocation for body-less requests). */
  get bodyIfUsed(): RequestBodyBuffer | undefined {
    return this.requestBody;
  }

  /**
   * This request's HTTP cache state (Pingora's `session.cache`): `enable` it in
   * `requestCacheFilter`; read its `phase` (Hit, Miss, Stale, …) in `responseFilter` or `logging`.
   * Made on first use.
   */
  get cache(): HttpCache {
    let c = this.httpCache;
    if (c === undefined) this.httpCache = c = new HttpCache();
    return c;
  }

  /** @internal The shutdown watch of the server this request came to. */
  get shutdownWatch(): ShutdownWatch {
    return this.shutdown;
  }

  /** @internal The cache state if anything used it. */
  get cacheIfUsed(): HttpCache | undefined {
    return this.httpCache;
  }

  /**
   * This request's {@link ResponseCompression} module, if one is registered (the default
   * `initDownstreamModules` registers it disabled). Adjust it before the response header is
   * filtered, e.g. `session.downstreamCompression?.adjustLevel(6)` in `requestFilter`.
   */
  get downstreamCompression(): ResponseCompression | undefined {
    return this.downstreamModules?.get(ResponseCompression);
  }

  /**
   * Compression applied to the upstream response before `upstreamResponseFilter` (Pingora's
   * `upstream_compression`); made on first use, disabled. Turn it on before the request goes
   * upstream (by `upstreamRequestFilter`): it reads the upstream request's `Accept-Encoding`.
   *
   * @example
   * ```ts
   * requestFilter(session) {
   *   // body filters see plain bytes even when the origin gzips
   *   session.upstreamCompression.adjustDecompression(true);
   *   return false;
   * }
   * ```
   */
  get upstreamCompression(): ResponseCompression {
    let c = this.upstreamCompressionCtx;
    if (c === undefined) this.upstreamCompressionCtx = c = new HttpModuleCtx([UPSTREAM_COMPRESSION.init()]);
    return c.modules[0] as ResponseCompression;
  }

  /** A process-unique id for this request (assigned on first use). */
  get requestId(): number {
    if (this.id === 0) this.id = nextRequestId++;
    return this.id;
  }

  /** A child logger bound to this request's id, made on first use. */
  get logger(): Logger {
    let l = this.child;
    if (l === undefined) this.child = l = this.parentLogger.child({ reqId: this.requestId });
    return l;
  }

  /** The downstream request header (mutable). */
  reqHeader(): RequestHeader {
    return this.downstream.reqHeader();
  }

  /** First value of a request header, case-insensitive. */
  getHeader(name: string): string | undefined {
    return this.downstream.getHeader(name);
  }

  /** The client's address. */
  clientAddr(): SocketAddr | undefined {
    return this.downstream.clientAddr();
  }

  /** The local address the request arrived on. */
  serverAddr(): SocketAddr | undefined {
    return this.downstream.serverAddr();
  }

  /** Details of the client connection: TLS version, cipher, SNI, ALPN, client certificate (Pingora's `digest()`). */
  digest(): Digest {
    return this.downstream.digest();
  }

  /** Whether the server is shutting down (Pingora's `is_process_shutting_down`). */
  isProcessShuttingDown(): boolean {
    return this.shutdown.shuttingDown;
  }

  /** The request asked for a protocol upgrade (e.g. WebSocket). */
  isUpgradeReq(): boolean {
    return this.downstream.isUpgradeReq();
  }

  /**
   * Reads the next request body chunk (`undefined` at the end). **Consumes** it, as in Pingora: a
   * consumed chunk is not sent upstream and `requestBodyFilter` does not see it. To look at the
   * body and still forward it, use {@link bufferRequestBody}.
   */
  async readRequestBody(): Promise<Buffer | undefined> {
    return this.body.consume();
  }

  /**
   * Reads the whole request body into memory without consuming it: it is still forwarded upstream
   * (and kept for retries). Fails with `HTTPStatus(413)` when it exceeds `maxBytes`.
   *
   * @example
   * ```ts
   * async requestFilter(session) {
   *   const body = await session.bufferRequestBody(1 << 20);
   *   return body.includes('forbidden') ? (session.respondError(403), true) : false;
   * }
   * ```
   */
  async bufferRequestBody(maxBytes: number): Promise<Buffer> {
    return this.body.bufferAll(maxBytes);
  }

  /** Reads and discards the rest of the request body. */
  drainRequestBody(): Promise<void> {
    return this.body.drain();
  }

  /** Request body bytes read from the client so far. */
  get bodyBytesRead(): number {
    const b = this.requestBody;
    return b === undefined
      ? this.downstream.bodyBytesRead
      : this.downstream.bodyBytesRead + b.upgradeBodyBytes;
  }

  /** Response body bytes written to the client so far. */
  get bodyBytesSent(): number {
    return this.downstream.bodyBytesSent;
  }

  /**
   * Writes the response head downstream; `endOfStream` ends the response. As in Pingora, the
   * downstream modules filter it (and its body: a module may compress what you write).
   */
  writeResponseHeader(resp: ResponseHeader, endOfStream = false): void {
    const mods = this.downstreamModules;
    if (mods === undefined) {
      this.downstream.writeResponseHeader(resp, endOfStream);
      return;
    }
    const w = new ModuleResponseWriter(this.downstream, mods);
    this.moduleResponse = w;
    w.writeHeader(resp, endOfStream);
  }

  /** Writes response body bytes downstream; returns false when the client is slow. */
  writeResponseBody(chunk: Buffer | undefined, endOfStream: boolean): boolean {
    const w = this.moduleResponse;
    if (w === undefined) return this.downstream.writeResponseBody(chunk, endOfStream);
    return w.writeBody(chunk, endOfStream);
  }

  /** The response head written downstream, if any. */
  responseWritten(): ResponseHeader | undefined {
    return this.downstream.responseWritten();
  }

  /** Answers with a bare error response: status, `Content-Length: 0`, `Cache-Control: private, no-store`. */
  respondError(status: number): void {
    this.downstream.respondError(status);
  }

  /** Answers with an error status and a body. */
  respondErrorWithBody(status: number, body: Buffer | string): void {
    this.downstream.respondErrorWithBody(status, body);
  }

  /**
   * `undefined`: close the client connection after this response (`Connection: close`); a number:
   * keep it alive, idle for at most that many seconds before the next request (`0`: no limit).
   * HTTP/1.x; a no-op on HTTP/2.
   */
  setKeepalive(seconds: number | undefined): void {
    this.downstream.setKeepalive(seconds);
  }

  /** Idle time allowed between request body bytes from the client, ms (`undefined`: none). */
  setReadTimeout(ms: number | undefined): void {
    this.downstream.setReadTimeout(ms);
  }

  /**
   * Time a response write may stay blocked on a client that reads nothing, ms (`undefined`: none);
   * past it the connection is closed and the request logged as a downstream `WriteTimedout` (499).
   *
   * @example
   * ```ts
   * requestFilter(session) {
   *   session.setWriteTimeout(10_000);
   *   session.setMinSendRate(64 * 1024); // downloads slower than 64 KiB/s are cut
   *   return false;
   * }
   * ```
   */
  setWriteTimeout(ms: number | undefined): void {
    this.downstream.setWriteTimeout(ms);
  }

  /** Minimum rate (bytes/s) the client must take response bytes at while some are pending; see core's `HttpServerSession.setMinSendRate`. */
  setMinSendRate(bytesPerSecond: number | undefined): void {
    this.downstream.setMinSendRate(bytesPerSecond);
  }

  /**
   * HTTP/1.x: when the response finishes before the request body was fully received, close the
   * connection (`true`) instead of draining the rest of the body to reuse it (`false`, default).
   */
  setCloseOnResponseBeforeDownstreamFinish(close: boolean): void {
    this.downstream.setCloseOnResponseBeforeDownstreamFinish(close);
  }

  /** Bound on draining an unread request body after the response, ms (default 10 000). */
  setTotalDrainTimeout(ms: number | undefined): void {
    this.downstream.setTotalDrainTimeout(ms);
  }

  /**
   * Timing of the latest upstream attempt (connect, TLS handshake, time to first byte, total), or
   * `undefined` when no connection was asked for. Retries overwrite it; `tries` counts attempts.
   *
   * @example
   * ```ts
   * logging(session) {
   *   const t = session.upstreamTiming();
   *   if (t !== undefined && t.firstByte > 500) session.logger.warn(`slow origin: ${t.firstByte} ms`);
   * }
   * ```
   */
  upstreamTiming(): UpstreamTiming | undefined {
    if (this.upstreamStart === 0) return undefined;
    return {
      reused: this.upstreamReused,
      connect: this.upstreamConnectTime,
      tlsHandshake: this.upstreamTlsTime,
      firstByte: this.upstreamFirstByte,
      total: this.upstreamTotal,
    };
  }

  /** @internal A new attempt asks for a connection now. */
  beginUpstream(): void {
    this.attemptStage = 1;
    this.upstreamReused = false;
    this.upstreamStart = performance.now();
    this.upstreamConnectTime = 0;
    this.upstreamTlsTime = 0;
    this.upstreamFirstByte = -1;
    this.upstreamTotal = -1;
  }

  /** Timing marks of the downstream request. */
  get timing() {
    return this.downstream.timing;
  }

  /** `"METHOD path, Host: host"` (Pingora's `request_summary`). */
  requestSummary(): string {
    const h = this.reqHeader();
    return `${h.method} ${h.uri}, Host: ${h.headers.get('host') ?? ''}`;
  }
}
