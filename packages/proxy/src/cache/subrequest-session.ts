/**
 * The downstream of a background subrequest (Pingora's subrequest session): a copy of the client's
 * request head with no body, whose response goes nowhere. The stale-while-revalidate refresh runs
 * through every phase of the proxy on one of these, so the refreshed asset is fetched and stored
 * exactly as a miss would be, while the client that triggered it is served the stale asset.
 */
import type {
  Digest,
  HttpServerSession,
  RequestBodyReader,
  RequestBodySink,
  SessionTiming,
  SocketAddr,
} from '@pingora-ts/core';
import type { PingoraError } from '@pingora-ts/error';
import { type RequestHeader, ResponseHeader } from '@pingora-ts/http';

const NO_DIGEST: Digest = Object.freeze({ sslDigest: undefined });

/** @internal */
export class SubrequestSession implements HttpServerSession {
  readonly httpVersion: 1 | 2 = 1;
  readonly hasRequestBody = false;
  readonly bodyBytesRead = 0;
  readonly timing: SessionTiming = { start: performance.now(), responseHeaderSent: 0, end: 0 };
  private written: ResponseHeader | undefined = undefined;
  private finished = false;
  private sent = 0;

  constructor(
    private readonly req: RequestHeader,
    private readonly client: SocketAddr | undefined,
    private readonly server: SocketAddr | undefined,
  ) {}

  reqHeader(): RequestHeader {
    return this.req;
  }

  getHeader(name: string): string | undefined {
    return this.req.headers.get(name);
  }

  clientAddr(): SocketAddr | undefined {
    return this.client;
  }

  serverAddr(): SocketAddr | undefined {
    return this.server;
  }

  digest(): Digest {
    return NO_DIGEST;
  }

  isUpgradeReq(): boolean {
    return false;
  }

  readRequestBody(): Promise<Buffer | undefined> {
    return Promise.resolve(undefined);
  }

  pumpRequestBody(sink: RequestBodySink): void {
    sink.onRequestBodyEnd(undefined);
  }

  pauseRequestBody(): void {}

  resumeRequestBody(): void {}

  drainRequestBody(): Promise<void> {
    return Promise.resolve();
  }

  writeContinueResponse(): void {}

  writeInformationalResponse(_resp: ResponseHeader): void {}

  writeResponseHeader(resp: ResponseHeader, endOfStream = false): void {
    this.written = resp;
    this.timing.responseHeaderSent = performance.now();
    if (endOfStream) this.end();
  }

  writeResponseBody(chunk: Buffer | undefined, endOfStream: boolean): boolean {
    if (chunk !== undefined) this.sent += chunk.length;
    if (endOfStream) this.end();
    return true;
  }

  writeResponseTrailers(_rawTrailers: string[]): void {
    this.end();
  }

  onResponseDrain(cb: () => void): void {
    queueMicrotask(cb);
  }

  responseWritten(): ResponseHeader | undefined {
    return this.written;
  }

  get responseFinished(): boolean {
    return this.finished;
  }

  get bodyBytesSent(): number {
    return this.sent;
  }

  respondError(status: number): void {
    this.respondErrorWithBody(status, '');
  }

  respondErrorWithBody(status: number, _body: Buffer | string): void {
    if (this.written !== undefined) return;
    this.written = ResponseHeader.build(status);
    this.end();
  }

  setKeepalive(_seconds: number | undefined): void {}
  setReadTimeout(_ms: number | undefined): void {}
  getReadTimeout(): number | undefined {
    return undefined;
  }
  setWriteTimeout(_ms: number | undefined): void {}
  setMinSendRate(_bytesPerSecond: number | undefined): void {}
  setCloseOnResponseBeforeDownstreamFinish(_close: boolean): void {}
  setTotalDrainTimeout(_ms: number | undefined): void {}
  setRequestBodyReader(_reader: RequestBodyReader | undefined): void {}

  // Nobody is on the other end to leave.
  onClientGone(_cb: (reason: PingoraError | undefined) => void): void {}

  abort(_cancel?: boolean): void {
    this.end();
  }

  takeUpgradeSocket(): undefined {
    return undefined;
  }

  private end(): void {
    if (this.finished) return;
    this.finished = true;
    this.timing.end = performance.now();
  }
}
