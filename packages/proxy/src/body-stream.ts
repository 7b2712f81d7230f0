/**
 * A stream in the response body path (a module's compressor, the upstream decompressor): what
 * the proxy writes into it comes out of it towards the next stage, with backpressure both ways.
 * When the stream's buffer is full the stage asks its owner to pause what feeds it until the
 * stream drains; when what it feeds is full the owner pauses the stream's output. Made only for
 * responses that go through a stream, so a plain response allocates none of this.
 *
 * Both ends hold their latest chunk for one microtask. When the body ends in that turn (an
 * HTTP/1.1 body's last chunk comes with its end), the chunk goes in as `end(chunk)`, which saves
 * the stream a flush round trip to the zlib thread pool, and the stream's last output reaches the
 * owner together with its end, so the response ends in one socket write. A streamed body (server-
 * sent events) is delayed by one microtask, not held.
 */
import type { Duplex } from 'node:stream';
import { ErrorType, PingoraError } from '@pingora-ts/error';

/** What a {@link BodyStreamStage} feeds and is fed by. */
export interface StageOwner {
  /** Output of the stream (call {@link BodyStreamStage.pauseOutput} when the next stage is full). */
  stageData(stage: BodyStreamStage, chunk: Buffer): void;
  /** The stream ended; `last` is its last output, handed over with the end so both go out in one write. */
  stageEnd(stage: BodyStreamStage, last: Buffer | undefined): void;
  /** The stream failed. */
  stageError(stage: BodyStreamStage, error: PingoraError): void;
  /** The stream is full: stop feeding it. */
  pauseInput(stage: BodyStreamStage): void;
  /** The stream drained: feed it again. */
  resumeInput(stage: BodyStreamStage): void;
}

/** @internal One stream of the body path and the listeners that connect it to its {@link StageOwner}. */
export class BodyStreamStage {
  private waitingDrain = false;
  private closed = false;
  private heldIn: Buffer | undefined = undefined;
  private heldOut: Buffer | undefined = undefined;

  constructor(
    readonly stream: Duplex,
    private readonly owner: StageOwner,
    /** Names the stream in errors ("upstream decompression", "downstream modules"). */
    readonly name: string,
    /** The error's source: a broken upstream encoding is the upstream's fault. */
    private readonly upstreamFault: boolean,
  ) {
    stream.on('data', this.onData);
    stream.on('end', this.onEnd);
    stream.on('error', this.onError);
  }

  /** Feeds a chunk; pauses the feeder when the stream's buffer is full. */
  write(chunk: Buffer): void {
    if (this.closed || chunk.length === 0) return;
    const prev = this.heldIn;
    this.heldIn = chunk;
    if (prev !== undefined) this.writeNow(prev);
    else queueMicrotask(this.flushIn);
  }

  /** No more input: the stream flushes and ends (with the held chunk, if any). */
  end(): void {
    if (this.closed) return;
    const last = this.heldIn;
    this.heldIn = undefined;
    if (last !== undefined) this.stream.end(last);
    else this.stream.end();
  }

  private writeNow(chunk: Buffer): void {
    if (!this.stream.write(chunk) && !this.waitingDrain) {
      this.waitingDrain = true;
      this.owner.pauseInput(this);
      this.stream.once('drain', this.onDrain);
    }
  }

  private readonly flushIn = (): void => {
    const held = this.heldIn;
    this.heldIn = undefined;
    if (held !== undefined && !this.closed) this.writeNow(held);
  };

  private readonly flushOut = (): void => {
    const held = this.heldOut;
    this.heldOut = undefined;
    if (held !== undefined && !this.closed) this.owner.stageData(this, held);
  };

  /** The next stage is full. */
  pauseOutput(): void {
    this.stream.pause();
  }

  /** The next stage drained. */
  resumeOutput(): void {
    if (!this.closed) this.stream.resume();
  }

  /** Stops everything and frees the stream (its zlib handle, if any). Idempotent. */
  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.heldIn = this.heldOut = undefined;
    this.stream.off('data', this.onData);
    this.stream.off('end', this.onEnd);
    // A late error from a stream being torn down must not reach the process.
    this.stream.off('error', this.onError);
    this.stream.on('error', ignore);
    this.stream.destroy();
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.closed) return;
    const prev = this.heldOut;
    this.heldOut = chunk;
    if (prev !== undefined) this.owner.stageData(this, prev);
    else queueMicrotask(this.flushOut);
  };

  private readonly onEnd = (): void => {
    if (this.closed) return;
    this.closed = true;
    const last = this.heldOut;
    this.heldOut = undefined;
    this.owner.stageEnd(this, last);
  };

  private readonly onDrain = (): void => {
    this.waitingDrain = false;
    if (!this.closed) this.owner.resumeInput(this);
  };

  private readonly onError = (e: Error): void => {
    if (this.closed) return;
    const err = PingoraError.because(ErrorType.Custom('CompressionError'), `${this.name} stream failed`, e);
    this.owner.stageError(this, this.upstreamFault ? err.asUp() : err.asIn());
  };
}

function ignore(): void {}
