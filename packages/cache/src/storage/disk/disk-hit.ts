/**
 * Reading an asset from its file, whole or while it is still being written. A complete asset is read
 * with positional reads; a partial one is tailed: at the end of what is written the reader asks the
 * fill's progress (the writer itself in this process, the file's state byte in another) and waits.
 */
import { ErrorType, PingoraError } from '@pingora-ts/error';
import type { HitHandler } from '../storage.js';
import { closeFd, fdGuard, readFd } from './fd.js';
import type { FileState } from './format.js';

/** How far a fill has come, as a reader of a partial file learns it. */
export interface FillStatus {
  state: FileState;
  /** Body bytes, once `done`. */
  bodyLength: number;
  /** Why the fill failed, once `aborted`. */
  error?: PingoraError | undefined;
}

/** The source of progress of a partial file. */
export interface FillProgress {
  /** Where the fill stands now (`fd` is the reader's descriptor of the file). */
  status(fd: number): Promise<FillStatus>;
  /** Resolves when more may have been written (a wake-up in this process, a poll otherwise). */
  next(): Promise<void>;
}

/** Most bytes one `readBody` reads from the file (a complete body is read in as few calls as that allows). */
export const READ_CHUNK = 256 * 1024;
/** Bytes asked for per read while tailing a body still being written. */
const TAIL_CHUNK = 64 * 1024;

/** A {@link HitHandler} over an asset file (see `format.ts`). */
export class DiskHitHandler implements HitHandler {
  private pos = 0;
  private end = Number.POSITIVE_INFINITY;
  private finished = false;

  /**
   * @param fd the open file, or undefined when `head` already holds the whole body
   * @param bodyOffset where the body starts in the file
   * @param head the body's first bytes, read with the header
   * @param bodyLength the body's length, -1 while it is written
   * @param progress where to learn about a fill in progress
   */
  constructor(
    private fd: number | undefined,
    private readonly bodyOffset: number,
    private readonly head: Uint8Array,
    private bodyLength: number,
    private readonly progress?: FillProgress,
  ) {
    if (fd !== undefined) fdGuard.register(this, fd, this);
  }

  async readBody(): Promise<Uint8Array | undefined> {
    if (this.finished)
      throw PingoraError.explain(ErrorType.InternalError, 'cache: read after the hit finished');
    for (;;) {
      if (this.pos >= this.end) return undefined;
      if (this.pos < this.head.byteLength)
        return this.take(this.head.subarray(this.pos, Math.min(this.head.byteLength, this.end)));
      const known = this.bodyLength;
      if (known >= 0 && this.pos >= known) {
        if (this.pos > known) throw seekOutOfRange(this.pos, known);
        return undefined;
      }
      const fd = this.fd;
      if (fd === undefined) return undefined;
      const want = Math.min(
        this.end - this.pos,
        known >= 0 ? Math.min(READ_CHUNK, known - this.pos) : TAIL_CHUNK,
      );
      const buf = Buffer.allocUnsafe(want);
      const bytesRead = await readFd(fd, buf, 0, want, this.bodyOffset + this.pos);
      if (bytesRead > 0) return this.take(buf.subarray(0, bytesRead));
      if (known >= 0 || this.progress === undefined) {
        throw PingoraError.explain(
          ErrorType.FileReadError,
          `disk cache: asset file shorter than its header says`,
        );
      }
      const status = await this.progress.status(fd);
      if (status.state === 'done') this.bodyLength = status.bodyLength;
      else if (status.state === 'aborted') {
        throw (
          status.error ??
          PingoraError.explain(ErrorType.InternalError, 'cache: the write of this asset was aborted')
        );
      } else await this.progress.next();
    }
  }

  canSeek(): boolean {
    return true;
  }

  /** As the memory hit: on a partial body the range check waits for the data. */
  seek(start: number, end?: number): void {
    if (!Number.isSafeInteger(start) || start < 0) throw seekOutOfRange(start, this.bodyLength);
    if (this.bodyLength >= 0 && start >= this.bodyLength) throw seekOutOfRange(start, this.bodyLength);
    if (end !== undefined && (!Number.isSafeInteger(end) || end < start)) {
      throw PingoraError.explain(ErrorType.InternalError, `cache: seek end ${end} is before start ${start}`);
    }
    this.pos = start;
    this.end = end ?? Number.POSITIVE_INFINITY;
  }

  async finish(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    const fd = this.fd;
    if (fd === undefined) return;
    this.fd = undefined;
    fdGuard.unregister(this);
    closeFd(fd);
  }

  private take(chunk: Uint8Array): Uint8Array {
    this.pos += chunk.byteLength;
    return chunk;
  }
}

function seekOutOfRange(start: number, length: number): PingoraError {
  return PingoraError.explain(
    ErrorType.InternalError,
    `cache: seek start out of range ${start} >= ${length}`,
  );
}
