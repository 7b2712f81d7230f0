/**
 * How a reader of a partial file learns about the fill: from the writer itself when it runs in this
 * process (woken at each chunk, no polling), or from the file's state byte when it runs in another
 * process (polled with backoff, and given up on when the file stops changing for too long: its writer
 * died).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorType, PingoraError } from '@pingora-ts/error';
import type { FillProgress, FillStatus } from './disk-hit.js';
import { fstatFd, readFd } from './fd.js';
import { decodeState, LENGTH_OFFSET, STATE_OFFSET } from './format.js';

/** What a local writer exposes to readers in its process. */
export interface LocalFill {
  readonly status: FillStatus;
  nextChange(): Promise<void>;
}

/** Progress from a writer in this process. */
export function localProgress(fill: LocalFill): FillProgress {
  return {
    status: async () => fill.status,
    next: () => fill.nextChange(),
  };
}

const FIRST_POLL_MS = 2;
const MAX_POLL_MS = 50;

/**
 * Progress from a writer in another process, read from the file. A file whose state is still
 * `writing` and whose modification time is older than `staleMs` was left by a writer that died.
 */
export function remoteProgress(staleMs: number, file: string): FillProgress {
  let delay = FIRST_POLL_MS;
  const state = Buffer.allocUnsafe(LENGTH_OFFSET + 8 - STATE_OFFSET);
  return {
    async status(fd: number): Promise<FillStatus> {
      await readFd(fd, state, 0, state.length, STATE_OFFSET);
      const now = decodeState(state);
      if (now.state !== 'writing') {
        return {
          ...now,
          error:
            now.state === 'aborted'
              ? PingoraError.explain(ErrorType.InternalError, 'cache: the write of this asset was aborted')
              : undefined,
        };
      }
      const { mtimeMs } = await fstatFd(fd);
      if (Date.now() - mtimeMs > staleMs) {
        const error = PingoraError.explain(
          ErrorType.FileReadError,
          `disk cache: the writer of ${file} stopped (no progress for ${staleMs} ms)`,
        );
        return { state: 'aborted', bodyLength: -1, error };
      }
      return now;
    },
    async next(): Promise<void> {
      await sleep(delay);
      delay = Math.min(MAX_POLL_MS, delay * 2);
    },
  };
}
