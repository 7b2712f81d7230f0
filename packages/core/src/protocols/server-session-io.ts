/**
 * What the HTTP/1.x and HTTP/2 downstream sessions do alike: socket addresses, pulling the next
 * request body chunk, draining the body, and the framework's error responses.
 */
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { ResponseHeader } from '@pingora-ts/http';
import { cannedErrorHeaders } from './canned.js';
import { type SocketAddr, socketAddrOf, unixPathOf } from '../socket-addr.js';
import type { HttpServerSession } from './server-session.js';

/**
 * The peer's end of `s`; `undefined` once the socket lost it, and for a Unix socket, whose client
 * end has no name (so callers falling back to "unknown" keep doing so).
 */
export function remoteAddr(s: Socket): SocketAddr | undefined {
  return socketAddrOf({ address: s.remoteAddress, port: s.remotePort, family: s.remoteFamily });
}

/** Our end of `s`: for a Unix socket, the listener's path. */
export function localAddr(s: Socket): SocketAddr | undefined {
  const end = { address: s.localAddress, port: s.localPort, family: s.localFamily };
  return socketAddrOf(end, end.address === undefined ? unixPathOf(s) : undefined);
}

/**
 * `readRequestBody` of both sessions: sends a pending `100 Continue`, then resolves with the next
 * chunk of `body` (counted into `session.bodyBytesRead`), or `undefined` at its end.
 * `outcome(body, closed)` says how the body ended, at 'end' (`closed` false) or 'close' (true):
 * `undefined` when complete, else the error to reject with. With `errors`, an 'error' of `body`
 * rejects too. Its listeners live for one call (the proxy streams bodies with `pumpRequestBody`).
 */
export function readBodyChunk<R extends Readable>(
  session: HttpServerSession & { bodyBytesRead: number },
  body: R,
  outcome: (body: R, closed: boolean) => Error | undefined,
  errors: boolean,
): Promise<Buffer | undefined> {
  session.writeContinueResponse();
  if (body.readableEnded || !session.hasRequestBody) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const chunk = body.read() as Buffer | null;
    if (chunk !== null) {
      session.bodyBytesRead += chunk.length;
      return resolve(chunk);
    }
    const cleanup = () => {
      body.off('readable', onReadable);
      body.off('end', onEnd);
      if (onError !== undefined) body.off('error', onError);
      body.off('close', onClose);
    };
    const onReadable = () => {
      const c = body.read() as Buffer | null;
      if (c === null) return;
      cleanup();
      session.bodyBytesRead += c.length;
      resolve(c);
    };
    const onEnd = () => {
      cleanup();
      const e = outcome(body, false);
      if (e === undefined) resolve(undefined);
      else reject(e);
    };
    const onClose = () => {
      cleanup();
      const e = outcome(body, true);
      if (e === undefined) resolve(undefined);
      else reject(e);
    };
    const onError = errors
      ? (e: Error) => {
          cleanup();
          reject(e);
        }
      : undefined;
    body.on('readable', onReadable);
    body.on('end', onEnd);
    if (onError !== undefined) body.on('error', onError);
    body.on('close', onClose);
  });
}

/** Reads and discards the rest of the request body. */
export async function drainBody(session: HttpServerSession): Promise<void> {
  while ((await session.readRequestBody()) !== undefined) {
    // discard
  }
}

/** Byte length of an error response body. */
export function bodyLength(body: Buffer | string): number {
  return typeof body === 'string' ? Buffer.byteLength(body) : body.length;
}

/** The header a framework-written error response records as written (a copy of the canned fields). */
export function cannedErrorHeader(status: number, len: number): ResponseHeader {
  return ResponseHeader.fromRaw(status, cannedErrorHeaders(status, len).slice());
}
