/**
 * Writing an asset file. The writer owns a private temporary file beside the final one and, when no
 * other fill of the key is running, a `.partial` hard link to it so readers in other processes can
 * tail it. `finish` marks the file complete in place and renames it over the final name: a crash at any
 * point leaves either the old asset or the new one, never a torn file that could be served.
 */
import { randomBytes } from 'node:crypto';
import { type FileHandle, link, open, rename, stat, unlink } from 'node:fs/promises';
import { ErrorType, PingoraError } from '@pingora-ts/error';
import { writeAborted } from '../body.js';
import { ERR_RESPONSE_TOO_LARGE, type MissHandler, type StorageKey } from '../storage.js';
import type { FillStatus } from './disk-hit.js';
import { encodeHeader, encodeState, STATE_OFFSET } from './format.js';
import { PARTIAL_SUFFIX, TEMP_SUFFIX } from './layout.js';
import type { LocalFill } from './progress.js';

/** What a {@link DiskMissHandler} needs from its storage. */
export interface DiskMissSink<M> {
  /** Store the finished write (rename and admit) if it is still the key's current one. */
  commit(write: DiskMissHandler<M>): Promise<void>;
  /** Forget the write (aborted or too large). */
  discard(write: DiskMissHandler<M>): void;
}

/** Paths and limits of one write. */
export interface DiskWriteTarget {
  /** The final file. */
  file: string;
  maxFileSize: number;
  /** A `.partial` older than this (ms without a write) was left by a dead writer and is replaced. */
  staleMs: number;
}

/** A {@link MissHandler} writing one asset file for a {@link DiskStorage}. */
export class DiskMissHandler<M> implements MissHandler, LocalFill {
  /** The temporary file written. */
  readonly tmp: string;
  /** The `.partial` link, when this write is the one readers of other processes follow. */
  partial: string | undefined;
  /** Body bytes written. */
  length = 0;
  /** Set by `updateMeta` during the write: the meta to store instead of the one in the header. */
  pendingMeta: M | undefined;
  private state: FillStatus['state'] = 'writing';
  private error: PingoraError | undefined;
  private chain: Promise<void> = Promise.resolve();
  private closed: 'open' | 'committed' | 'discarded' = 'open';
  private changed: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  private constructor(
    private readonly sink: DiskMissSink<M>,
    readonly key: StorageKey,
    public meta: M,
    readonly target: DiskWriteTarget,
    private readonly fh: FileHandle,
    readonly bodyOffset: number,
    tmp: string,
  ) {
    this.tmp = tmp;
  }

  /** Creates the temporary file with its header and, if it can, the `.partial` link. */
  static async create<M>(
    sink: DiskMissSink<M>,
    key: StorageKey,
    meta: M,
    metaBytes: Uint8Array,
    target: DiskWriteTarget,
  ): Promise<DiskMissHandler<M>> {
    const tmp = `${target.file}.${process.pid}.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`;
    const fh = await open(tmp, 'wx');
    const header = encodeHeader(key, metaBytes);
    try {
      await fh.write(header, 0, header.length, 0);
    } catch (e) {
      await fh.close().catch(() => {});
      await unlink(tmp).catch(() => {});
      throw PingoraError.because(ErrorType.FileWriteError, `disk cache: cannot write ${tmp}`, e);
    }
    const write = new DiskMissHandler(sink, key, meta, target, fh, header.length, tmp);
    write.partial = await announce(tmp, `${target.file}${PARTIAL_SUFFIX}`, target.staleMs);
    return write;
  }

  /** Where the fill stands, for readers in this process. */
  get status(): FillStatus {
    return { state: this.state, bodyLength: this.state === 'done' ? this.length : -1, error: this.error };
  }

  /** Resolves at the next chunk, completion or abort. */
  nextChange(): Promise<void> {
    this.changed ??= new Promise<void>((resolve) => {
      this.wake = resolve;
    });
    return this.changed;
  }

  writeBody(chunk: Uint8Array, eof: boolean): Promise<void> {
    const next = this.chain.then(() => this.append(chunk, eof));
    this.chain = next.catch(() => {});
    return next;
  }

  async finish(): Promise<number> {
    await this.chain;
    if (this.closed === 'discarded') throw this.failure();
    if (this.closed === 'committed') return this.length;
    this.closed = 'committed';
    try {
      const done = encodeState('done', this.length);
      await this.fh.write(done, 0, done.length, STATE_OFFSET);
      await this.fh.close();
    } catch (e) {
      await this.fh.close().catch(() => {});
      this.fail(
        PingoraError.because(ErrorType.FileWriteError, `disk cache: cannot finish ${this.tmp}`, e),
        true,
      );
      throw this.failure();
    }
    this.state = 'done';
    this.notify();
    await this.sink.commit(this);
    return this.length;
  }

  abort(reason?: unknown): void {
    this.fail(writeAborted(reason ?? new Error('cache: the writer aborted')));
  }

  /** Moves the finished file into place (true) or, when `keep` is false, drops it (false). */
  async settle(keep: boolean): Promise<boolean> {
    let kept = false;
    if (keep) {
      try {
        await rename(this.tmp, this.target.file);
        kept = true;
      } catch {
        await unlink(this.tmp).catch(() => {});
      }
    } else await unlink(this.tmp).catch(() => {});
    if (this.partial !== undefined) await unlink(this.partial).catch(() => {});
    return kept;
  }

  private async append(chunk: Uint8Array, eof: boolean): Promise<void> {
    if (this.closed === 'discarded') throw this.failure();
    if (this.closed === 'committed' || this.state === 'done') {
      if (chunk.byteLength > 0) throw writeAborted(new Error('cache: write after the end of the body'));
      return;
    }
    if (this.length + chunk.byteLength > this.target.maxFileSize) {
      const error = PingoraError.explain(
        ERR_RESPONSE_TOO_LARGE,
        `cache: body exceeds the max file size of ${this.target.maxFileSize} bytes`,
      );
      this.fail(error);
      throw error;
    }
    if (chunk.byteLength > 0) {
      try {
        await this.fh.write(chunk, 0, chunk.byteLength, this.bodyOffset + this.length);
      } catch (e) {
        this.fail(PingoraError.because(ErrorType.FileWriteError, `disk cache: cannot write ${this.tmp}`, e));
        throw this.failure();
      }
      this.length += chunk.byteLength;
      this.notify();
    }
    // `eof` needs nothing here: readers learn the end from `finish`, which follows it.
    void eof;
  }

  private failure(): PingoraError {
    return this.error ?? writeAborted(new Error('cache: the write was aborted'));
  }

  /** Discards an open write (`force`: also one whose commit failed). A committed write stays. */
  private fail(error: PingoraError, force = false): void {
    if (this.closed === 'discarded' || (this.closed === 'committed' && !force)) return;
    const wasOpen = this.closed === 'open';
    this.closed = 'discarded';
    this.state = 'aborted';
    this.error = error;
    this.notify();
    this.sink.discard(this);
    // Readers in other processes learn it from the state byte; the files go either way.
    const fh = this.fh;
    void (async () => {
      if (wasOpen) {
        const aborted = encodeState('aborted', -1);
        await fh.write(aborted, 0, aborted.length, STATE_OFFSET).catch(() => {});
        await fh.close().catch(() => {});
      }
      await this.settle(false);
    })();
  }

  private notify(): void {
    const wake = this.wake;
    this.changed = undefined;
    this.wake = undefined;
    wake?.();
  }
}

/**
 * Links `partial` to `tmp` so other processes find the fill; a `.partial` left by a dead writer
 * (unchanged for `staleMs`) is replaced. Returns the link made, or undefined when another live fill
 * of the key owns it (this write then stays private until it is renamed into place).
 */
async function announce(tmp: string, partial: string, staleMs: number): Promise<string | undefined> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await link(tmp, partial);
      return partial;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') return undefined;
    }
    const old = await stat(partial).catch(() => undefined);
    if (old !== undefined && Date.now() - old.mtimeMs <= staleMs) return undefined;
    await unlink(partial).catch(() => {});
  }
  return undefined;
}
