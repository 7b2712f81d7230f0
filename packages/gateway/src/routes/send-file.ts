/**
 * Streams an open file as a response body, paced by the client: a chunk is read only when the
 * previous one was taken (by the connection, or by the compressor when the route compresses).
 * Small files go in one write.
 */
import type { FileHandle } from 'node:fs/promises';
import { ErrorType, PingoraError } from '@pingora-ts/error';
import type { ResponseHeader } from '@pingora-ts/http';
import type { Session } from '@pingora-ts/proxy';

/** Bytes read per chunk, and the size sent in a single write. */
export const FILE_CHUNK = 64 * 1024;

/**
 * Writes `resp` and `size` bytes of `handle` downstream. Fails (the proxy then cuts the
 * connection) when the file shrank while being sent; stops quietly when the client went away.
 */
export async function sendFileBody(
  session: Session,
  resp: ResponseHeader,
  handle: FileHandle,
  size: number,
): Promise<void> {
  if (size <= FILE_CHUNK) {
    const buf = await readChunk(handle, size, 0);
    session.writeResponseHeader(resp, false);
    session.writeResponseBody(buf, true);
    return;
  }
  const pace = new Pace(session);
  session.writeResponseHeader(resp, false);
  let pos = 0;
  while (pos < size && !pace.gone) {
    const buf = await readChunk(handle, Math.min(FILE_CHUNK, size - pos), pos);
    pos += buf.length;
    const last = pos === size;
    if (!session.writeResponseBody(buf, last) && !last) await pace.writable();
  }
}

async function readChunk(handle: FileHandle, len: number, pos: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(len);
  let got = 0;
  while (got < len) {
    const { bytesRead } = await handle.read(buf, got, len - got, pos + got);
    if (bytesRead === 0) {
      throw PingoraError.explain(ErrorType.FileReadError, 'static file shrank while being sent');
    }
    got += bytesRead;
  }
  return buf;
}

/** Waits for the response path to take more, or for the client to leave. */
class Pace {
  gone = false;
  private wake: (() => void) | undefined;

  constructor(private readonly session: Session) {
    session.downstream.onClientGone(() => {
      this.gone = true;
      this.resume();
    });
  }

  writable(): Promise<void> {
    return new Promise<void>((resolve) => {
      if (this.gone) return resolve();
      this.wake = resolve;
      // When the route compresses, the write was refused by the compressor's input (which drains
      // as it works); otherwise by the connection.
      const compression = this.session.downstreamCompression;
      const coder = compression?.isEnabled() ? compression.responseBodyStream() : undefined;
      if (coder !== undefined) coder.once('drain', this.resume);
      else this.session.downstream.onResponseDrain(this.resume);
    });
  }

  private readonly resume = (): void => {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  };
}
