/**
 * The handles of {@link FileCacheLock} (internal). In a process, the first request to miss a key is
 * its leader: it gets a read lock whose `wait()` goes for the key's lock file. Winning it makes the
 * leader the writer (`TransientError` with a permit, the way a reader is elected writer: it looks up
 * again and fetches if still missing). Losing it, the leader polls the file until its holder is done or
 * dead. The process's other requests for the key queue behind the leader in memory, as with
 * `CacheLock`, so a stampede costs one lock file per process, not one per request.
 */
import { ReadLock, WritePermit } from './handles.js';
import type { LockFiles } from './lock-files.js';
import type { LockCore, LockTable } from './lock-table.js';
import { type LockStatus, PLAIN_RESULTS, type UnlockReason, type WaitResult } from './status.js';

/** Timing of a leader's polling of another process's lock file. */
export interface PollSettings {
  readonly ageTimeoutMs: number;
  readonly waitTimeoutMs: number | undefined;
  readonly firstPollMs: number;
  readonly maxPollMs: number;
  /** Whether process `pid` of this machine still runs. */
  readonly alive: (pid: number) => boolean;
}

/** The write permit of a process that holds the key's lock file; unlocking removes the file. */
export class FileWritePermit extends WritePermit {
  #released = false;
  #nonce: string | undefined;

  /** @internal */
  constructor(
    table: LockTable,
    core: LockCore,
    private readonly files: LockFiles,
    nonce: string | undefined,
  ) {
    super(table, core);
    this.#nonce = nonce;
  }

  /**
   * A permit handed out before the lock file is taken (a stale writer: the cache serves the stale
   * asset at once and refreshes it in the background, so it cannot wait). It takes the file when it
   * can, so other processes wait on this refresh; if another process holds it, both refresh.
   */
  static optimistic(table: LockTable, core: LockCore, files: LockFiles): FileWritePermit {
    const permit = new FileWritePermit(table, core, files, undefined);
    void files.tryAcquire(core.hashKey).then(
      (attempt) => {
        if (!attempt.won) return;
        if (permit.#released) files.release(core.hashKey, attempt.nonce);
        else permit.#nonce = attempt.nonce;
      },
      () => {},
    );
    return permit;
  }

  /**
   * As {@link WritePermit.unlock}. In this process a `TransientError` wakes the queued requests as
   * `Dangling` (they look up again and the next one takes the lock file), so no request here writes
   * without holding the file.
   */
  override unlock(reason: UnlockReason): boolean {
    const changed = super.unlock(reason === 'TransientError' ? 'Dangling' : reason);
    if (!this.#released) {
      this.#released = true;
      if (this.#nonce !== undefined) this.files.release(this.hashKey, this.#nonce);
    }
    return changed;
  }
}

/** The leader's read lock: `wait()` takes the lock file or waits for its holder in another process. */
export class LeaderLock extends ReadLock {
  #result: Promise<WaitResult> | undefined;
  #cancelled = false;
  #settled = false;
  #wake: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;

  /** @internal */
  constructor(
    private readonly fileTable: LockTable,
    private readonly fileCore: LockCore,
    staleWriter: boolean,
    private readonly files: LockFiles,
    private readonly poll: PollSettings,
  ) {
    super(fileTable, fileCore, staleWriter);
  }

  override wait(): Promise<WaitResult> {
    this.#result ??= this.#cancelled
      ? Promise.resolve(PLAIN_RESULTS.WaitTimeout)
      : this.#run().finally(() => {
          this.#settled = true;
        });
    return this.#result;
  }

  /** As {@link ReadLock.cancel}: false once the wait has ended (a permit it gave must be unlocked). */
  override cancel(): boolean {
    if (this.#cancelled || this.#settled) return false;
    this.#cancelled = true;
    clearTimeout(this.#timer);
    this.#wake?.();
    // Never waited: nothing will end the lock of this process's queue but this.
    if (this.#result === undefined) this.#leave();
    return true;
  }

  async #run(): Promise<WaitResult> {
    const { ageTimeoutMs, waitTimeoutMs, firstPollMs, maxPollMs, alive } = this.poll;
    const core = this.fileCore;
    const deadline = waitTimeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + waitTimeoutMs;
    let delay = firstPollMs;
    for (;;) {
      if (core.status !== 'Waiting') return PLAIN_RESULTS.AgeTimeout; // expired here meanwhile
      if (this.#cancelled || Date.now() >= deadline) return this.#leave();
      let attempt: Awaited<ReturnType<LockFiles['tryAcquire']>>;
      try {
        attempt = await this.files.tryAcquire(this.hashKey);
      } catch {
        // The lock directory is unusable: fetch without cross-process protection rather than hang.
        this.fileTable.finish(core, 'GiveUp');
        return PLAIN_RESULTS.GiveUp;
      }
      if (attempt.won) {
        const permit = new FileWritePermit(this.fileTable, core, this.files, attempt.nonce);
        // Re-read after the await: the age timer may have ended the lock meanwhile.
        const now = core.status as LockStatus;
        if (this.#cancelled || now !== 'Waiting') {
          permit.unlock('Dangling');
          return now === 'AgeTimeout' ? PLAIN_RESULTS.AgeTimeout : PLAIN_RESULTS.WaitTimeout;
        }
        return { status: 'TransientError', permit };
      }
      const holder = attempt.holder;
      if (holder === undefined) continue; // released between our create and our read
      const dead = holder.pid > 0 && holder.pid !== process.pid && !alive(holder.pid);
      if (dead || Date.now() - holder.at > ageTimeoutMs) {
        await this.files.removeIf(this.hashKey, holder.nonce).catch(() => {});
        continue;
      }
      await this.#sleep(Math.min(delay, Math.max(0, deadline - Date.now())));
      delay = Math.min(maxPollMs, delay * 2);
    }
  }

  /** The leader stops waiting: the requests queued behind it here look up again. */
  #leave(): WaitResult {
    this.fileTable.finish(this.fileCore, 'Dangling');
    return PLAIN_RESULTS.WaitTimeout;
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = resolve;
      this.#timer = setTimeout(resolve, ms);
    });
  }
}
