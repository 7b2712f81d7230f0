/**
 * A stream in the response body path (a module's compressor, the upstream decompressor): what
 * the proxy writes into it comes out of it towards the next stage, with backpressure both ways.
 * When the stream's buffer is full the stage asks its owner to pause what feeds it until the
 * stream drains; when what it feeds is full the owner pauses the stream's output. Made only for
 * responses that go through a stream, so a plain response allocates none of this.
 */
import type { Duplex } from 'node:stream';
import { ErrorType, PingoraError } from '@pingora-ts/error';

/** What a {@link BodyStreamStage} feeds and is fed by. */
export interface StageOwner {
  /** Output of the stream (call {@link BodyStreamStage.pauseOutput} when the next stage is full). */
  stageData(stage: BodyStreamStage, chunk: Buffer): void;
  /** The stream ended after its last output. */
  stageEnd(stage: BodyStreamStage): void;
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
    if (!this.stream.write(chunk) && !this.waitingDrain) {
      this.waitingDrain = true;
      this.owner.pauseInput(this);
      this.stream.once('drain', this.onDrain);
    }
  }

  /** No more input (after `last`, if given): the stream flushes and ends. */
  end(last?: Buffer): void {
    if (this.closed) return;
    if (last !== undefined && last.length > 0) this.stream.end(last);
    else this.stream.end();
  }

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
    this.stream.off('data', this.onData);
    this.stream.off('end', this.onEnd);
    // A late error from a stream being torn down must not reach the process.
    this.stream.off('error', this.onError);
    this.stream.on('error', ignore);
    this.stream.destroy();
  }

  private readonly onData = (chunk: Buffer): void => {
    if (!this.closed) this.owner.stageData(this, chunk);
  };

  private readonly onEnd = (): void => {
    if (this.closed) return;
    this.closed = true;
    this.owner.stageEnd(this);
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
