/**
 * Writing one version of a body into Redis in fixed-size chunks, each visible to readers on any
 * instance as soon as it lands. `finish` commits the version in one script, so a lookup sees the
 * old asset or the whole new one, never half of it.
 */
import { ERR_RESPONSE_TOO_LARGE, type MissHandler } from '@pingora-ts/cache';
import { PingoraError } from '@pingora-ts/error';
import type { RedisLink } from '../link.js';
import { ABORT, APPEND, FINISH, TOUCH } from './scripts.js';

/** What a write needs to know about its place in Redis and its limits. */
export interface WriteTarget {
  readonly id: string;
  readonly versionKey: string;
  readonly writeKey: string;
  readonly commitKey: string;
  readonly versionPrefix: string;
  readonly chunkSize: number;
  readonly maxFileSize: number;
  readonly writeTimeoutMs: number;
  readonly graceMs: number;
  /** The committed asset's lifetime in ms, from its meta, computed at commit time. */
  readonly ttlMs: () => number;
}

/** A {@link MissHandler} writing into a `RedisStorage`. */
export class RedisMissHandler implements MissHandler {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private written = 0;
  private chunks = 0;
  private state: 'open' | 'eof' | 'committed' | 'failed' = 'open';
  private failure: Error | undefined;
  private readonly append: (...args: (string | number | Buffer)[]) => Promise<unknown>;
  private readonly commit: (...args: (string | number | Buffer)[]) => Promise<unknown>;
  private readonly drop: (...args: (string | number | Buffer)[]) => Promise<unknown>;
  private readonly touch: (...args: (string | number | Buffer)[]) => Promise<unknown>;
  /** When the version's expiry was last pushed back (ms, monotonic). */
  private renewed = performance.now();

  constructor(
    link: RedisLink,
    private readonly target: WriteTarget,
  ) {
    this.append = link.script('pingoraTsCacheAppend', APPEND);
    this.commit = link.script('pingoraTsCacheFinish', FINISH);
    this.drop = link.script('pingoraTsCacheAbort', ABORT);
    this.touch = link.script('pingoraTsCacheTouch', TOUCH);
  }

  async writeBody(chunk: Uint8Array, eof: boolean): Promise<void> {
    if (this.state === 'failed') throw this.failure!;
    if (this.state !== 'open' && chunk.byteLength > 0)
      throw new Error('redis cache: write after the end of the body');
    const t = this.target;
    const size = this.written + this.pendingBytes + chunk.byteLength;
    if (size > t.maxFileSize) {
      const error = PingoraError.explain(
        ERR_RESPONSE_TOO_LARGE,
        `cache: body exceeds the max file size of ${t.maxFileSize} bytes`,
      );
      this.abort(error);
      throw error;
    }
    if (chunk.byteLength > 0) {
      // A copy: the caller may reuse its buffer once this resolves.
      this.pending.push(Buffer.from(chunk));
      this.pendingBytes += chunk.byteLength;
    }
    try {
      while (this.pendingBytes >= t.chunkSize) await this.flush(t.chunkSize);
      if (eof) {
        if (this.pendingBytes > 0) await this.flush(this.pendingBytes);
        this.state = 'eof';
      } else if (performance.now() - this.renewed > t.writeTimeoutMs / 3) {
        // A slow origin still filling a chunk: keep the write from looking dead.
        const ok = await this.touch(t.versionKey, t.writeKey, t.id, t.writeTimeoutMs);
        if (Number(ok) !== 1)
          throw new Error('redis cache: the version being written expired or was aborted');
        this.renewed = performance.now();
      }
    } catch (e) {
      this.abort(e);
      throw e;
    }
  }

  async finish(): Promise<number> {
    if (this.state === 'failed') throw this.failure!;
    if (this.state === 'committed') return this.written;
    const t = this.target;
    try {
      if (this.pendingBytes > 0) await this.flush(this.pendingBytes);
      const ttl = Math.max(1, Math.ceil(t.ttlMs()));
      const result = Number(
        await this.commit(t.versionKey, t.writeKey, t.commitKey, t.id, ttl, t.versionPrefix, t.graceMs),
      );
      if (result < 0) throw new Error('redis cache: the version expired before it was finished');
    } catch (e) {
      this.abort(e);
      throw e;
    }
    this.state = 'committed';
    return this.written;
  }

  abort(reason?: unknown): void {
    if (this.state === 'committed' || this.state === 'failed') return;
    this.state = 'failed';
    this.failure = reason instanceof Error ? reason : new Error('redis cache: the write was aborted');
    this.pending = [];
    const t = this.target;
    // Best effort: if Redis is gone the version expires by itself within writeTimeoutMs.
    this.drop(t.versionKey, t.writeKey, t.id, t.graceMs).catch(() => undefined);
  }

  // Writes the first `bytes` pending bytes as the next chunk.
  private async flush(bytes: number): Promise<void> {
    const all = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
    const chunk = all.subarray(0, bytes);
    const rest = all.subarray(bytes);
    this.pending = rest.byteLength > 0 ? [rest] : [];
    this.pendingBytes = rest.byteLength;
    const t = this.target;
    const length = this.written + bytes;
    const ok = await this.append(
      t.versionKey,
      t.writeKey,
      t.id,
      this.chunks,
      chunk,
      t.writeTimeoutMs,
      length,
    );
    if (Number(ok) !== 1) throw new Error('redis cache: the version being written expired or was aborted');
    this.renewed = performance.now();
    this.chunks++;
    this.written = length;
  }
}
