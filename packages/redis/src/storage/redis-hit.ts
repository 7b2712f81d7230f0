/**
 * Reading one version of a body from Redis, chunk by chunk. A version still being written is
 * followed as its chunks land (polling with a capped backoff); it ends when the writer commits,
 * and fails when the writer aborts or dies (its version expires without being finished).
 */
import type { HitHandler } from '@pingora-ts/cache';
import type { RedisLink } from '../link.js';

/** What a lookup learned about the version it found. */
export interface VersionInfo {
  /** The version's Redis key. */
  readonly key: string;
  /** Chunk size the writer used. */
  readonly chunkSize: number;
  /** Total length when the version is done. */
  readonly length: number;
  /** Whether the write was finished when looked up. */
  readonly done: boolean;
  /** Chunk 0, which the lookup returned with the meta (empty for an empty body). */
  readonly first: Buffer | undefined;
}

/** Longest pause between two polls of a version being written, in ms. */
const MAX_POLL_MS = 20;

/** A {@link HitHandler} over one version of an asset in Redis. */
export class RedisHitHandler implements HitHandler {
  private pos = 0;
  private end = Number.POSITIVE_INFINITY;
  private finished = false;
  private first: Buffer | undefined;
  private done: boolean;
  private length: number;

  constructor(
    private readonly link: RedisLink,
    private readonly info: VersionInfo,
  ) {
    this.first = info.first;
    this.done = info.done;
    this.length = info.length;
  }

  async readBody(): Promise<Uint8Array | undefined> {
    if (this.finished) throw new Error('redis cache: read after the hit finished');
    const cs = this.info.chunkSize;
    let pause = 1;
    for (;;) {
      if (this.pos >= this.end) return undefined;
      if (this.done && this.pos >= this.length) {
        if (this.pos > this.length) throw seekOutOfRange(this.pos, this.length);
        return undefined;
      }
      const index = Math.floor(this.pos / cs);
      const chunk = await this.chunk(index);
      if (chunk !== undefined) {
        const from = this.pos - index * cs;
        const to = Math.min(chunk.byteLength, this.end - index * cs);
        if (from < chunk.byteLength) {
          this.pos += to - from;
          return chunk.subarray(from, to);
        }
      }
      if (this.done) continue;
      // The writer has not written this far yet: wait for it, a little longer each time.
      await new Promise((r) => setTimeout(r, pause));
      pause = Math.min(pause * 2, MAX_POLL_MS);
    }
  }

  canSeek(): boolean {
    return true;
  }

  seek(start: number, end?: number): void {
    if (!Number.isSafeInteger(start) || start < 0) throw seekOutOfRange(start, this.length);
    if (this.done && start >= this.length) throw seekOutOfRange(start, this.length);
    if (end !== undefined && (!Number.isSafeInteger(end) || end < start)) {
      throw new RangeError(`redis cache: seek end ${end} is before start ${start}`);
    }
    this.pos = start;
    this.end = end ?? Number.POSITIVE_INFINITY;
  }

  async finish(): Promise<void> {
    this.finished = true;
    this.first = undefined;
  }

  // Chunk `index`, or undefined when it is not written yet (then `done`/`length` are refreshed).
  private async chunk(index: number): Promise<Buffer | undefined> {
    // The lookup's copy of chunk 0, unless the reader is at its end (then ask Redis for the state).
    if (index === 0 && this.first !== undefined && this.pos < this.first.byteLength) return this.first;
    const key = this.info.key;
    const [chunk, st, n, len] = await this.link.run('cache read', () =>
      this.link.client.hmgetBuffer(key, `c${index}`, 'st', 'n', 'len'),
    );
    if (st === null || st === undefined) {
      throw new Error('redis cache: the asset is gone (its writer died, or it expired or was evicted)');
    }
    const state = st.toString();
    if (state === 'a') throw new Error('redis cache: the write of this asset was aborted');
    if (state === 'd') {
      this.done = true;
      this.length = Number(len);
    }
    if (chunk !== null && chunk !== undefined && chunk.byteLength > 0) {
      if (index === 0) this.first = chunk;
      return chunk;
    }
    // Counted but missing: Redis dropped part of the version (memory pressure).
    if (Number(n) > index) throw new Error('redis cache: a chunk of the asset is missing');
    return undefined;
  }
}

function seekOutOfRange(start: number, length: number): RangeError {
  return new RangeError(`redis cache: seek start out of range ${start} >= ${length}`);
}
