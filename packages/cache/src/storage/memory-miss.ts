/**
 * Writing a body into memory. The body is visible to partial readers from the first chunk; it counts as
 * in-flight memory until `finish` hands it to the storage, which admits it through the eviction manager.
 */
import { PingoraError } from '@pingora-ts/error';
import { BodyBuffer, writeAborted } from './body.js';
import { ERR_RESPONSE_TOO_LARGE, type MissHandler, type StorageKey } from './storage.js';

/** What a {@link MemoryMissHandler} needs from its storage. */
export interface MissSink<M> {
  /** Bytes were added to (positive) or released from (negative) in-flight writes. */
  inflight(delta: number): void;
  /** Store the finished write if it is still the key's current one. */
  commit(write: MemoryMissHandler<M>): void;
  /** Forget the write (aborted or too large). */
  discard(write: MemoryMissHandler<M>): void;
}

/** A {@link MissHandler} writing into a {@link MemoryStorage}. */
export class MemoryMissHandler<M> implements MissHandler {
  /** The key written. */
  readonly key: StorageKey;
  /** The meta stored with the body (replaced by `updateMeta` while writing). */
  meta: M;
  /** The body, shared with partial readers. */
  readonly body = new BodyBuffer();
  private readonly sink: MissSink<M>;
  private readonly maxFileSize: number;
  private closed: 'open' | 'committed' | 'discarded' = 'open';

  constructor(sink: MissSink<M>, key: StorageKey, meta: M, maxFileSize: number) {
    this.sink = sink;
    this.key = key;
    this.meta = meta;
    this.maxFileSize = maxFileSize;
  }

  async writeBody(chunk: Uint8Array, eof: boolean): Promise<void> {
    const body = this.body;
    if (this.closed === 'discarded') throw this.failure();
    if (body.state === 'done' && chunk.byteLength > 0) {
      throw writeAborted(new Error('cache: write after the end of the body'));
    }
    if (body.length + chunk.byteLength > this.maxFileSize) {
      const error = PingoraError.explain(
        ERR_RESPONSE_TOO_LARGE,
        `cache: body exceeds the max file size of ${this.maxFileSize} bytes`,
      );
      this.fail(error);
      throw error;
    }
    body.append(chunk);
    this.sink.inflight(chunk.byteLength);
    if (eof) body.complete();
  }

  async finish(): Promise<number> {
    const body = this.body;
    if (this.closed === 'discarded') throw this.failure();
    body.complete();
    if (this.closed === 'open') {
      this.closed = 'committed';
      this.sink.commit(this);
    }
    return body.length;
  }

  abort(reason?: unknown): void {
    this.fail(writeAborted(reason ?? new Error('cache: the writer aborted')));
  }

  // The error a discarded write answers with; a write discarded after its last chunk has no body error.
  private failure(): PingoraError {
    return this.body.error ?? writeAborted(new Error('cache: the write was aborted'));
  }

  private fail(error: PingoraError): void {
    if (this.closed !== 'open') return;
    this.closed = 'discarded';
    this.body.abort(error);
    this.sink.inflight(-this.body.length);
    this.sink.discard(this);
  }
}
