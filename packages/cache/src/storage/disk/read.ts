/**
 * Opening an asset file for a hit: one read takes the header and the start of the body, so a small
 * asset costs an open, a read and a close.
 */
import { type AssetHeader, decodeHeader, headerLength } from './format.js';
import { closeFd, openFd, readFd } from './fd.js';

/** Bytes of the first read: the header and, for most small assets, the whole body. */
const FIRST_READ = 16 * 1024;

/** An open asset file: its header, the body bytes read with it, and the handle when more remain. */
export interface OpenAsset {
  header: AssetHeader;
  /** The body's first bytes (the whole body when `fd` is undefined). */
  head: Uint8Array;
  /** The descriptor, still open when the body goes past `head` or is still being written. */
  fd: number | undefined;
}

/**
 * Opens `file` and reads its header. Resolves to undefined when the file does not exist; rejects with a
 * `PingoraError` for a file that is not a valid asset (the handle is closed either way).
 */
export async function openAsset(file: string): Promise<OpenAsset | undefined> {
  let fd: number;
  try {
    fd = await openFd(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    let buf = Buffer.allocUnsafe(FIRST_READ);
    let bytesRead = await readFd(fd, buf, 0, buf.length, 0);
    const total = headerLength(buf.subarray(0, bytesRead), file);
    if (total !== undefined && total > bytesRead) {
      // A header larger than one read (a response head of many fields): read the rest of it.
      const bigger = Buffer.allocUnsafe(total + FIRST_READ);
      buf.copy(bigger, 0, 0, bytesRead);
      bytesRead += await readFd(fd, bigger, bytesRead, bigger.length - bytesRead, bytesRead);
      buf = bigger;
    }
    const header = decodeHeader(buf.subarray(0, bytesRead), file);
    const bodyEnd = header.bodyLength >= 0 ? header.bodyOffset + header.bodyLength : bytesRead;
    const head = buf.subarray(header.bodyOffset, Math.min(bytesRead, bodyEnd));
    if (header.state === 'done' && bodyEnd <= bytesRead) {
      closeFd(fd);
      return { header, head, fd: undefined };
    }
    return { header, head, fd };
  } catch (e) {
    closeFd(fd);
    throw e;
  }
}
