/**
 * What the HTTP/1.x and HTTP/2 downstream sessions do alike: socket addresses, pulling the next
 * request body chunk, draining the body, and the framework's error responses.
 */
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { ErrorType, PingoraError } from '@pingora-ts/error';
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

/** Default bound on draining an unread request body after the response (ms). */
export const DEFAULT_TOTAL_DRAIN_TIMEOUT = 10_000;

/**
 * The write wait for `queued` pending bytes at `minSendRate` bytes/s: `queued / rate`, at least a
 * second (a small write must not turn a brief stall into a cut). `undefined` rate: `writeTimeout`.
 */
export function writeWaitMs(
  minSendRate: number | undefined,
  queued: number,
  writeTimeout: number | undefined,
): number | undefined {
  if (minSendRate === undefined) return writeTimeout;
  return Math.max(1000, Math.ceil((queued * 1000) / minSendRate));
}

/** The downstream error of a response write that stayed blocked past its bound. */
export function writeTimedout(
  minSendRate: number | undefined,
  writeTimeout: number | undefined,
): PingoraError {
  const why =
    minSendRate !== undefined
      ? `client took response bytes slower than ${minSendRate} bytes/s`
      : `response write blocked for ${writeTimeout} ms`;
  return PingoraError.explain(ErrorType.WriteTimedout, why).asDown();
}

/** The downstream error of a request body that stopped arriving. */
export function readTimedout(readTimeout: number | undefined): PingoraError {
  return PingoraError.explain(ErrorType.ReadTimedout, `no request body data for ${readTimeout} ms`).asDown();
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

/**
 * The fields of a `103 Early Hints` head as node's header object (lowercase names, repeated
 * fields as arrays), or `undefined` when it is not a 103 with a `Link` field: browsers act on
 * 103 only for its links, and node refuses early hints without one.
 */
export function earlyHintsFields(resp: ResponseHeader): Record<string, string | string[]> | undefined {
  if (resp.status !== 103) return undefined;
  const raw = resp.rawHeaders;
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    const had = out[name];
    if (had === undefined) out[name] = value;
    else if (typeof had === 'string') out[name] = [had, value];
    else had.push(value);
  }
  return out.link === undefined ? undefined : out;
}
