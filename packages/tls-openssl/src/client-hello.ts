/**
 * Reading the TLS ClientHello before OpenSSL sees it, to learn the client's ALPN offer (and SNI).
 * The bytes are read from the accepted socket and pushed back with `unshift`; node's TLSSocket
 * feeds bytes already buffered on the socket it wraps into the handshake, so nothing is lost.
 * Only listeners that negotiate ALPN pay for it (see alpn.ts for why).
 */
import type * as net from 'node:net';

/** What the acceptor needs from a ClientHello. */
export interface ClientHello {
  /** Protocols offered in the ALPN extension, in the client's order; `undefined` without the extension. */
  readonly alpn: readonly string[] | undefined;
  /** The SNI host name, if sent. */
  readonly servername: string | undefined;
}

/** More bytes are needed to see the whole ClientHello. */
export const INCOMPLETE = 'incomplete';
/** The bytes are not a TLS ClientHello this parser understands (SSLv2 hello, plain HTTP, garbage). */
export const INVALID = 'invalid';

const HANDSHAKE_RECORD = 22;
const CLIENT_HELLO = 1;
const EXT_SERVER_NAME = 0;
const EXT_ALPN = 16;
/** Largest ClientHello we wait for; beyond it the handshake proceeds with default ALPN handling. */
export const MAX_CLIENT_HELLO = 64 * 1024;

/**
 * Parses the ClientHello at the start of `data` (one or more TLS handshake records).
 *
 * @example
 * ```ts
 * const r = parseClientHello(firstBytes);
 * if (typeof r === 'object') r.alpn; // ['h2', 'http/1.1']
 * ```
 */
export function parseClientHello(data: Buffer): ClientHello | typeof INCOMPLETE | typeof INVALID {
  // Reassemble the handshake message from consecutive records (it may span several).
  const parts: Buffer[] = [];
  let have = 0;
  let need = -1;
  let off = 0;
  while (need < 0 || have < need) {
    if (data.length < off + 5) return INCOMPLETE;
    if (data[off] !== HANDSHAKE_RECORD || data[off + 1] !== 3) return INVALID;
    const len = data.readUInt16BE(off + 3);
    if (len === 0) return INVALID;
    if (data.length < off + 5 + len) return INCOMPLETE;
    parts.push(data.subarray(off + 5, off + 5 + len));
    have += len;
    off += 5 + len;
    if (need < 0) {
      const first = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
      if (first.length < 4) continue;
      if (first[0] !== CLIENT_HELLO) return INVALID;
      need = 4 + first.readUIntBE(1, 3);
      if (need > MAX_CLIENT_HELLO) return INVALID;
    }
  }
  const msg = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  return parseHelloBody(msg.subarray(4, need)) ?? INVALID;
}

function parseHelloBody(b: Buffer): ClientHello | undefined {
  let p = 2 + 32; // legacy_version, random
  if (b.length < p + 1) return undefined;
  p += 1 + b[p]!; // session id
  if (b.length < p + 2) return undefined;
  p += 2 + b.readUInt16BE(p); // cipher suites
  if (b.length < p + 1) return undefined;
  p += 1 + b[p]!; // compression methods
  if (p === b.length) return { alpn: undefined, servername: undefined }; // no extensions
  if (b.length < p + 2) return undefined;
  const end = p + 2 + b.readUInt16BE(p);
  if (end > b.length) return undefined;
  p += 2;
  let alpn: string[] | undefined;
  let servername: string | undefined;
  while (p + 4 <= end) {
    const type = b.readUInt16BE(p);
    const len = b.readUInt16BE(p + 2);
    const body = p + 4;
    p = body + len;
    if (p > end) return undefined;
    if (type === EXT_ALPN) alpn = readAlpn(b.subarray(body, p));
    else if (type === EXT_SERVER_NAME) servername = readServerName(b.subarray(body, p));
    if ((type === EXT_ALPN && alpn === undefined) || (type === EXT_SERVER_NAME && servername === undefined)) {
      return undefined;
    }
  }
  return { alpn, servername };
}

function readAlpn(e: Buffer): string[] | undefined {
  if (e.length < 2 || e.readUInt16BE(0) !== e.length - 2) return undefined;
  const out: string[] = [];
  for (let p = 2; p < e.length; ) {
    const n = e[p]!;
    if (n === 0 || p + 1 + n > e.length) return undefined;
    out.push(e.toString('latin1', p + 1, p + 1 + n));
    p += 1 + n;
  }
  return out;
}

function readServerName(e: Buffer): string | undefined {
  if (e.length < 5 || e.readUInt16BE(0) !== e.length - 2 || e[2] !== 0) return undefined;
  const n = e.readUInt16BE(3);
  if (5 + n > e.length) return undefined;
  return e.toString('latin1', 5, 5 + n);
}

/**
 * Waits for the ClientHello on a freshly accepted `socket`, puts every byte read back on the
 * socket, then calls `done` with what was found (`undefined` when the bytes are not a ClientHello
 * we understand, or when the socket ended first). The caller bounds the wait (handshake timeout):
 * destroying the socket ends it with `undefined`.
 */
export function peekClientHello(socket: net.Socket, done: (hello: ClientHello | undefined) => void): void {
  let buf: Buffer | undefined;
  let finished = false;
  const finish = (hello: ClientHello | undefined) => {
    if (finished) return;
    finished = true;
    socket.off('readable', onReadable);
    socket.off('end', onEnd);
    socket.off('close', onEnd);
    if (buf !== undefined && !socket.destroyed) socket.unshift(buf);
    done(hello);
  };
  const onReadable = () => {
    let chunk: Buffer | null;
    // biome-ignore lint/suspicious/noAssignInExpressions: the stream read loop
    while ((chunk = socket.read() as Buffer | null) !== null)
      buf = buf === undefined ? chunk : Buffer.concat([buf, chunk]);
    if (buf === undefined) return;
    const r = parseClientHello(buf);
    if (r === INCOMPLETE && buf.length < MAX_CLIENT_HELLO + 5 * 8) return;
    finish(typeof r === 'object' ? r : undefined);
  };
  const onEnd = () => finish(undefined);
  socket.on('readable', onReadable);
  socket.once('end', onEnd);
  socket.once('close', onEnd);
}
