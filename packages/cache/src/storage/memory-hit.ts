/**
 * Reading a body from memory, whole or while it is still being written: a reader that has caught up
 * with the writer waits for the next chunk, the end, or the writer's abort.
 */
import { ErrorType, PingoraError } from '@pingora-ts/error';
import type { BodyBuffer } from './body.js';
import type { HitHandler } from './storage.js';

/**
 * A {@link HitHandler} over a {@link BodyBuffer}. Chunks it returns are views of the stored bytes:
 * do not modify them.
 */
export class MemoryHitHandler implements HitHandler {
  private readonly body: BodyBuffer;
  private pos = 0;
  private end = Number.POSITIVE_INFINITY;
  private finished = false;

  constructor(body: BodyBuffer) {
    this.body = body;
  }

  async readBody(): Promise<Uint8Array | undefined> {
    if (this.finished)
      throw PingoraError.explain(ErrorType.InternalError, 'cache: read after the hit finished');
    const body = this.body;
    for (;;) {
      if (this.pos >= this.end) return undefined;
      if (this.pos < body.length) {
        const chunk = body.read(this.pos, this.end);
        this.pos += chunk.byteLength;
        return chunk;
      }
      if (body.state === 'done') {
        if (this.pos > body.length) throw seekOutOfRange(this.pos, body.length);
        return undefined;
      }
      if (body.state === 'aborted') throw body.error!;
      await body.nextChange();
    }
  }

  canSeek(): boolean {
    return true;
  }

  /**
   * On a complete body `start` must be below its length. On a body still being written the check waits
   * for the data: a read at a start the finished body never reached rejects.
   */
  seek(start: number, end?: number): void {
    if (!Number.isSafeInteger(start) || start < 0) throw seekOutOfRange(start, this.body.length);
    if (this.body.state === 'done' && start >= this.body.length)
      throw seekOutOfRange(start, this.body.length);
    if (end !== undefined && (!Number.isSafeInteger(end) || end < start)) {
      throw PingoraError.explain(ErrorType.InternalError, `cache: seek end ${end} is before start ${start}`);
    }
    this.pos = start;
    this.end = end ?? Number.POSITIVE_INFINITY;
  }

  async finish(): Promise<void> {
    this.finished = true;
  }
}

function seekOutOfRange(start: number, length: number): PingoraError {
  return PingoraError.explain(
    ErrorType.InternalError,
    `cache: seek start out of range ${start} >= ${length}`,
  );
}
