/**
 * One asset's body as it is written: append-only chunks that readers share. A chunk is copied once on
 * the way in and never changed afterwards, so every reader, including one still reading after a purge
 * or a replacement, sees a stable snapshot of the bytes already written.
 */
import { ErrorType, PingoraError } from '@pingora-ts/error';

/** Where a body's write stands. */
export type BodyState = 'writing' | 'done' | 'aborted';

/** An append-only body shared by its writer and its readers. */
export class BodyBuffer {
  /** Total bytes written so far. */
  length = 0;
  /** The write's progress. */
  state: BodyState = 'writing';
  /** Why the write was aborted (set with `state === 'aborted'`). */
  error: PingoraError | undefined;
  private readonly chunks: Uint8Array[] = [];
  private readonly starts: number[] = [];
  private changed: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  /** Append a copy of `chunk` and wake waiting readers. */
  append(chunk: Uint8Array): void {
    if (chunk.byteLength === 0) return;
    // A copy, never a view: Buffer#slice shares memory, and a view would keep the writer's whole
    // source buffer alive (and change with it if it is reused).
    this.chunks.push(Uint8Array.prototype.slice.call(chunk));
    this.starts.push(this.length);
    this.length += chunk.byteLength;
    this.notify();
  }

  /** Mark the body complete. */
  complete(): void {
    if (this.state !== 'writing') return;
    this.state = 'done';
    this.notify();
  }

  /** Fail the write: readers waiting or reading past what was written get `error`. */
  abort(error: PingoraError): void {
    if (this.state !== 'writing') return;
    this.state = 'aborted';
    this.error = error;
    this.notify();
  }

  /**
   * The bytes from `pos` up to at most `limit` (exclusive) that sit in one stored chunk, as a view:
   * readers must not modify it. Empty when `pos` is at or past what was written.
   */
  read(pos: number, limit: number): Uint8Array {
    if (pos >= this.length || pos >= limit) return new Uint8Array(0);
    const i = this.chunkAt(pos);
    const chunk = this.chunks[i]!;
    const start = this.starts[i]!;
    return chunk.subarray(pos - start, Math.min(chunk.byteLength, limit - start));
  }

  /** Resolves at the next append, completion or abort. One promise is shared by all waiters. */
  nextChange(): Promise<void> {
    this.changed ??= new Promise<void>((resolve) => {
      this.wake = resolve;
    });
    return this.changed;
  }

  /** The whole body as one array (a copy). */
  toBytes(): Uint8Array {
    const out = new Uint8Array(this.length);
    for (let i = 0; i < this.chunks.length; i++) out.set(this.chunks[i]!, this.starts[i]!);
    return out;
  }

  private notify(): void {
    const wake = this.wake;
    this.changed = undefined;
    this.wake = undefined;
    wake?.();
  }

  // Binary search for the chunk holding byte `pos` (pos < length).
  private chunkAt(pos: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.starts[mid]! <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}

/** The error partial readers get when the writer gave up. */
export function writeAborted(reason: unknown): PingoraError {
  if (reason instanceof PingoraError) return reason;
  return PingoraError.because(ErrorType.InternalError, 'cache: the write of this asset was aborted', reason);
}
