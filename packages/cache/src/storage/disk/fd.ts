/**
 * File-descriptor I/O for the hit path: `fs`'s callback API behind small promises. Cheaper per call
 * than `FileHandle` objects (measured: about 1.3× the open + read + close rate on this machine's
 * loaded 2 cores), at the price of closing descriptors ourselves; a handler dropped without `finish`
 * still gets its descriptor closed when it is collected.
 */
import { close, fstat, open, read, type Stats } from 'node:fs';

/** Opens `path` read-only. */
export function openFd(path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    open(path, 'r', (err, fd) => (err === null ? resolve(fd) : reject(err)));
  });
}

/** Reads up to `length` bytes at `position` into `buf` at `offset`; resolves to the bytes read. */
export function readFd(
  fd: number,
  buf: Uint8Array,
  offset: number,
  length: number,
  position: number,
): Promise<number> {
  return new Promise((resolve, reject) => {
    read(fd, buf, offset, length, position, (err, n) => (err === null ? resolve(n) : reject(err)));
  });
}

/**
 * Closes `fd` without waiting: nothing on the hit path needs the close to be done, so the answer
 * does not wait one more thread-pool round trip for it. Errors (already closed) are ignored.
 */
export function closeFd(fd: number): void {
  close(fd, ignore);
}

function ignore(): void {}

/** The status of `fd`. */
export function fstatFd(fd: number): Promise<Stats> {
  return new Promise((resolve, reject) => {
    fstat(fd, (err, st) => (err === null ? resolve(st) : reject(err)));
  });
}

/** Closes the descriptor of a handler collected without `finish` (a caller's bug, not a leak). */
export const fdGuard = new FinalizationRegistry<number>((fd) => {
  close(fd, () => {});
});
