/**
 * Lock files for {@link FileCacheLock} (internal): one file per key being fetched, created with
 * `O_EXCL` and holding `<pid> <epoch ms> <nonce>`. Removing a lock (released, or stale after a crash)
 * is done by renaming it to a unique name first and checking the nonce there, so a process never
 * deletes a lock another one took in the meantime.
 */
import { createHash, randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Who holds a lock file. */
export interface Holder {
  pid: number;
  /** When it was taken, ms since the epoch. */
  at: number;
  nonce: string;
}

/** The outcome of one attempt to take a lock file. */
export type Attempt =
  | { won: true; nonce: string }
  /** `holder` is undefined when the file vanished meanwhile: try again. */
  | { won: false; holder: Holder | undefined };

const SAFE_NAME = /^[0-9A-Za-z_-]{1,200}$/;

/** The lock files of one directory. */
export class LockFiles {
  #dirReady = false;
  readonly #pending = new Set<Promise<unknown>>();

  constructor(readonly dir: string) {}

  /** The lock file of `hashKey`. */
  path(hashKey: string): string {
    const name = SAFE_NAME.test(hashKey) ? hashKey : createHash('sha256').update(hashKey).digest('hex');
    return join(this.dir, `${name}.lock`);
  }

  /** Removes in the background what a released permit held; {@link LockFiles.flush} waits for it. */
  release(hashKey: string, nonce: string): void {
    const done = this.removeIf(hashKey, nonce).catch(() => false);
    this.#pending.add(done);
    void done.then(() => this.#pending.delete(done));
  }

  /** Resolves once every background release has finished. */
  async flush(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all(this.#pending);
  }

  /** Tries to create the lock file of `hashKey`. */
  async tryAcquire(hashKey: string): Promise<Attempt> {
    const path = this.path(hashKey);
    const nonce = randomBytes(8).toString('hex');
    if (!this.#dirReady) {
      await mkdir(this.dir, { recursive: true });
      this.#dirReady = true;
    }
    try {
      await writeFile(path, `${process.pid} ${Date.now()} ${nonce}`, { flag: 'wx' });
      return { won: true, nonce };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    return { won: false, holder: await this.holder(path) };
  }

  /**
   * Reads who holds `path`, undefined when it does not exist. A file not yet written (or left empty by
   * a crash right after its creation) reads as pid 0 taken at its modification time, so it ages out.
   */
  async holder(path: string): Promise<Holder | undefined> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch {
      return undefined;
    }
    const [pid, at, nonce] = text.split(' ');
    const holder = { pid: Number(pid), at: Number(at), nonce: nonce ?? '' };
    if (Number.isSafeInteger(holder.pid) && Number.isFinite(holder.at) && holder.nonce.length === 16)
      return holder;
    const st = await stat(path).catch(() => undefined);
    return st === undefined ? undefined : { pid: 0, at: st.mtimeMs, nonce: '' };
  }

  /**
   * Removes the lock file of `hashKey` if it still holds `nonce` (a release, or breaking a stale lock
   * seen with that nonce). Resolves to whether it removed it.
   */
  async removeIf(hashKey: string, nonce: string): Promise<boolean> {
    const path = this.path(hashKey);
    const aside = `${path}.${randomBytes(6).toString('hex')}.gone`;
    try {
      await rename(path, aside);
    } catch {
      return false; // already gone
    }
    const moved = await this.holder(aside);
    if (moved?.nonce === nonce) {
      await unlink(aside).catch(() => {});
      return true;
    }
    // Another process took the key between our read and the rename: put its lock back (link fails
    // if yet another one was created meanwhile, which then holds the key alone).
    await link(aside, path).catch(() => {});
    await unlink(aside).catch(() => {});
    return false;
  }
}

/** Whether process `pid` exists on this machine (a permission error means it does). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
