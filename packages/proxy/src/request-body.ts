/**
 * The downstream request body as the proxy sees it across attempts. Chunks are forwarded as they
 * arrive and, up to Pingora's 64 KiB retry buffer, kept so a retried attempt can send the body
 * again; past the limit the buffer is dropped and a retry that needs it is refused (Pingora's
 * `retry_buffer_truncated`). The same object serves `readRequestBody` (consuming) and
 * `bufferRequestBody` (read ahead, still forwarded).
 */
import type { HttpServerSession, RequestBodySink } from '@pingora-ts/core';
import { ErrorType, isPingoraError, PingoraError } from '@pingora-ts/error';

/** Pingora's request-body retry buffer size. */
export const RETRY_BUFFER_LIMIT = 64 * 1024;

/** Receives the body for one upstream attempt. */
export interface BodyTarget {
  onBodyChunk(chunk: Buffer): void;
  onBodyEnd(rawTrailers: string[] | undefined): void;
  onBodyError(error: PingoraError): void;
}

function clientGone(cause: Error): PingoraError {
  return PingoraError.because(ErrorType.ConnectionClosed, 'reading request body', cause).asDown();
}

/** @internal */
export class RequestBodyBuffer implements RequestBodySink {
  /** The body did not fit the retry buffer, so it cannot be sent again. */
  truncated = false;
  /** Some of the body was taken by `readRequestBody` and will not be forwarded. */
  consumed = false;
  private retained: Buffer[] = [];
  private retainedBytes = 0;
  private limit = RETRY_BUFFER_LIMIT;
  private ended = false;
  private trailers: string[] | undefined;
  private error: PingoraError | undefined;
  private pumping = false;
  private target: BodyTarget | undefined;
  private attachedBefore = false;
  private consumer: ((chunk: Buffer | undefined) => void) | undefined;
  private consumerFail: ((e: PingoraError) => void) | undefined;
  private whole: { max: number; resolve: (b: Buffer) => void; reject: (e: PingoraError) => void } | undefined;

  constructor(private readonly downstream: HttpServerSession) {
    this.ended = !downstream.hasRequestBody;
  }

  /** Sends the body (what was kept, then the rest as it arrives) to `target`. */
  attach(target: BodyTarget): void {
    if (this.attachedBefore && this.truncated) {
      target.onBodyError(
        PingoraError.explain(
          ErrorType.InternalError,
          'request body exceeded the retry buffer; cannot resend it',
        ),
      );
      return;
    }
    this.attachedBefore = true;
    this.target = target;
    for (const c of this.retained) target.onBodyChunk(c);
    if (this.error !== undefined) target.onBodyError(this.error);
    else if (this.ended) target.onBodyEnd(this.trailers);
    else this.pump();
  }

  /** Stops delivering to the current target (the attempt ended) and pauses the client. */
  detach(): void {
    this.target = undefined;
    if (!this.ended) this.downstream.pauseRequestBody();
  }

  /** Backpressure from the upstream side. */
  pause(): void {
    this.downstream.pauseRequestBody();
  }

  /** Resumes after {@link pause}. */
  resume(): void {
    if (!this.ended) this.downstream.resumeRequestBody();
  }

  consume(): Promise<Buffer | undefined> {
    this.consumed = true;
    const first = this.retained.shift();
    if (first !== undefined) {
      this.retainedBytes -= first.length;
      return Promise.resolve(first);
    }
    if (this.error !== undefined) return Promise.reject(this.error);
    if (this.ended) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      this.consumer = resolve;
      this.consumerFail = reject;
      this.pump();
    });
  }

  bufferAll(max: number): Promise<Buffer> {
    if (this.retainedBytes > max) return Promise.reject(tooLarge(max));
    if (this.error !== undefined) return Promise.reject(this.error);
    if (this.ended) return Promise.resolve(Buffer.concat(this.retained));
    this.limit = Math.max(this.limit, max);
    return new Promise((resolve, reject) => {
      this.whole = { max, resolve, reject };
      this.pump();
    });
  }

  async drain(): Promise<void> {
    while ((await this.consume()) !== undefined) {
      // discard
    }
  }

  // --- RequestBodySink ---

  onRequestBody(chunk: Buffer): void {
    const consumer = this.consumer;
    if (consumer !== undefined) {
      this.consumer = this.consumerFail = undefined;
      this.downstream.pauseRequestBody();
      consumer(chunk);
      return;
    }
    if (!this.truncated) {
      if (this.retainedBytes + chunk.length <= this.limit) {
        this.retained.push(chunk);
        this.retainedBytes += chunk.length;
      } else {
        this.truncated = true;
        this.retained = [];
        this.retainedBytes = 0;
      }
    }
    const whole = this.whole;
    if (whole !== undefined && (this.truncated || this.retainedBytes > whole.max)) {
      this.whole = undefined;
      this.downstream.pauseRequestBody();
      whole.reject(tooLarge(whole.max));
      return;
    }
    this.target?.onBodyChunk(chunk);
  }

  onRequestBodyEnd(rawTrailers: string[] | undefined): void {
    this.ended = true;
    this.trailers = rawTrailers;
    this.consumer?.(undefined);
    this.consumer = this.consumerFail = undefined;
    const whole = this.whole;
    this.whole = undefined;
    whole?.resolve(Buffer.concat(this.retained));
    this.target?.onBodyEnd(rawTrailers);
  }

  onRequestBodyError(error: Error): void {
    // A typed error (e.g. a downstream read timeout) keeps its type; anything else means the client went away.
    const e = isPingoraError(error) ? error : clientGone(error);
    this.error = e;
    this.consumerFail?.(e);
    this.consumer = this.consumerFail = undefined;
    this.whole?.reject(e);
    this.whole = undefined;
    this.target?.onBodyError(e);
  }

  private pump(): void {
    if (!this.pumping) {
      this.pumping = true;
      this.downstream.pumpRequestBody(this);
    }
    this.downstream.resumeRequestBody();
  }
}

function tooLarge(max: number): PingoraError {
  return PingoraError.explain(ErrorType.HTTPStatus(413), `request body larger than ${max} bytes`).asDown();
}
