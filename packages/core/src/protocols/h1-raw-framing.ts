/**
 * Response framing for the raw-socket HTTP/1.x engine: which body delimitation a response gets
 * (RFC 9112 §6.3 from the server's side), the fields the framework adds as node:http does
 * (`Date`, `Connection`, `Keep-Alive`, `Content-Length` or `Transfer-Encoding: chunked`), and the
 * chunk and trailer bytes. Everything is a latin1 string so a head and a small body go out as one
 * write.
 */
import type { Socket } from 'node:net';
import { headerLines, type ResponseHeader, reasonPhrase } from '@pingora-ts/http';

/** The body is not sent (HEAD, 1xx, 204, 304). */
export const FRAMING_NONE = 0;
/** Content-Length delimits it. */
export const FRAMING_LENGTH = 1;
/** Chunked transfer coding. */
export const FRAMING_CHUNKED = 2;
/** Delimited by closing the connection (HTTP/1.0 client, unknown length). */
export const FRAMING_CLOSE = 3;
export type Framing = 0 | 1 | 2 | 3;

/** What a response head needs to know about its request and connection; the framing comes back in it. */
export interface FramingInput {
  /** The request was HEAD. */
  head: boolean;
  /** The client speaks HTTP/1.1 (chunked allowed). */
  http11: boolean;
  /**
   * In: the connection may stay open after this response, before the response's own fields are
   * read. Out: whether it does.
   */
  keepAlive: boolean;
  /** Idle timeout advertised in `Keep-Alive: timeout=N`, ms (0: none advertised). */
  keepaliveMs: number;
  /**
   * Total body length when known at head time, else -1. node:http decides framing when the head
   * is written (chunked without a Content-Length, even when the body then comes in one call),
   * and the session does the same so both engines put the same fields on the wire.
   */
  knownLength: number;
  /** Out: the framing chosen. */
  framing: Framing;
}

// "HTTP/1.1 200 OK\r\n" per status, built once.
const STATUS_LINES: Array<string | undefined> = [];

function statusLine(resp: ResponseHeader): string {
  const status = resp.status;
  const reason = resp.getReasonPhrase();
  if (reason !== undefined && reason !== reasonPhrase(status)) return `HTTP/1.1 ${status} ${reason}\r\n`;
  let line = STATUS_LINES[status];
  if (line === undefined)
    STATUS_LINES[status] = line = `HTTP/1.1 ${status} ${reasonPhrase(status) ?? ''}\r\n`;
  return line;
}

/**
 * The response head as node:http writes it: always `HTTP/1.1` (whatever version the header
 * carries: an HTTP/2 origin's response goes out to an HTTP/1 client), the fields in their stored
 * case and order, and the final empty line.
 */
export function h1ResponseHead(resp: ResponseHeader): string {
  return `${statusLine(resp)}${headerLines(resp.rawHeaders, false)}\r\n`;
}

// node:http's Date cache: one string per second, dropped by a timer at the next second (so no
// request pays for reading the clock).
let dateValue: string | undefined;

function httpDate(): string {
  let d = dateValue;
  if (d === undefined) {
    const now = Date.now();
    dateValue = d = new Date(now).toUTCString();
    setTimeout(resetDate, 1000 - (now % 1000)).unref();
  }
  return d;
}

function resetDate(): void {
  dateValue = undefined;
}

function listHasClose(value: string): boolean {
  return /(?:^|,)\s*close\s*(?:,|$)/i.test(value);
}

// `name` (any case) is `lower` (lower case, same length); the common spelling `title` and a
// first-letter check spare most calls a toLowerCase.
function named(name: string, lower: string, title: string): boolean {
  return (
    name === title ||
    name === lower ||
    ((name.charCodeAt(0) | 0x20) === lower.charCodeAt(0) && name.toLowerCase() === lower)
  );
}

/**
 * Decides the framing of `resp` and adds the fields node:http would, on the wire only: `resp`
 * is left as the app gave it (it may be a cached header). Sets `input.framing` and
 * `input.keepAlive`. Returns the head as a latin1 string. One pass over the fields, which both
 * writes their lines and finds the ones framing depends on (the first of each, as `get` would).
 */
export function frameResponse(resp: ResponseHeader, input: FramingInput): string {
  const status = resp.status;
  const raw = resp.rawHeaders;
  let te: string | undefined;
  let conn: string | undefined;
  let hasLength = false;
  let hasDate = false;
  let hasKeepAlive = false;
  let lines = '';
  const n = raw.length - 1;
  for (let i = 0; i < n; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    lines += `${name}: ${value}\r\n`;
    switch (name.length) {
      case 4:
        if (!hasDate && named(name, 'date', 'Date')) hasDate = true;
        break;
      case 10:
        if (named(name, 'connection', 'Connection')) {
          if (conn === undefined) conn = value;
        } else if (named(name, 'keep-alive', 'Keep-Alive')) hasKeepAlive = true;
        break;
      case 14:
        if (!hasLength && named(name, 'content-length', 'Content-Length')) hasLength = true;
        break;
      case 17:
        if (te === undefined && named(name, 'transfer-encoding', 'Transfer-Encoding')) te = value;
        break;
    }
  }
  let extra = '';
  let framing: Framing;
  if (input.head || status < 200 || status === 204 || status === 304) framing = FRAMING_NONE;
  else if (te !== undefined) framing = /(?:^|,)\s*chunked\s*$/i.test(te) ? FRAMING_CHUNKED : FRAMING_CLOSE;
  else if (hasLength) framing = FRAMING_LENGTH;
  else if (input.knownLength >= 0) {
    extra += `Content-Length: ${input.knownLength}\r\n`;
    framing = FRAMING_LENGTH;
  } else framing = input.http11 ? FRAMING_CHUNKED : FRAMING_CLOSE;
  input.framing = framing;
  if (framing === FRAMING_CLOSE) input.keepAlive = false;
  if (conn !== undefined && listHasClose(conn)) input.keepAlive = false;
  if (!hasDate) extra += `Date: ${httpDate()}\r\n`;
  if (conn === undefined) {
    extra += input.keepAlive ? 'Connection: keep-alive\r\n' : 'Connection: close\r\n';
    if (input.keepAlive && input.keepaliveMs > 0 && !hasKeepAlive)
      extra += `Keep-Alive: timeout=${Math.floor(input.keepaliveMs / 1000)}\r\n`;
  } else if (!input.keepAlive && !listHasClose(conn)) {
    // The app's own Connection field says keep-alive but this connection closes: one
    // `Connection: close` replaces it, so no client reads two answers. Rare, so a second pass.
    lines = withoutConnection(raw);
    extra += 'Connection: close\r\n';
  }
  // node:http names the chunked coding it chose last.
  if (framing === FRAMING_CHUNKED && te === undefined) extra += 'Transfer-Encoding: chunked\r\n';
  return `${statusLine(resp)}${lines}${extra}\r\n`;
}

// The field lines of `raw` without its Connection fields.
function withoutConnection(raw: string[]): string {
  let lines = '';
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 10 && named(name, 'connection', 'Connection')) continue;
    lines += `${name}: ${raw[i + 1]!}\r\n`;
  }
  return lines;
}

/** The size line of one chunk. */
export function chunkHead(length: number): string {
  return `${length.toString(16)}\r\n`;
}

/** The last chunk, with trailer fields (flat raw array) when there are some. */
export function lastChunk(rawTrailers: string[] | undefined): string {
  if (rawTrailers === undefined || rawTrailers.length === 0) return '0\r\n\r\n';
  let s = '0\r\n';
  for (let i = 0; i + 1 < rawTrailers.length; i += 2) {
    const name = rawTrailers[i]!;
    const value = rawTrailers[i + 1]!;
    // A field that could split the message is dropped, never written.
    if (/[\r\n]/.test(name) || /[\r\n]/.test(value)) continue;
    s += `${name}: ${value}\r\n`;
  }
  return `${s}\r\n`;
}

// Up to this size a body chunk is joined to the head (or its chunk framing) as one latin1 string.
const SMALL_BODY = 2048;

/**
 * Writes `pre` (a pending head, or nothing), then `chunk` framed as `framing` says, then the last
 * chunk when `endOfStream` ends a chunked body: one write for a small body, a corked run else.
 * Returns what the socket's last write returned (false: wait for 'drain').
 */
export function writeFramed(
  sock: Socket,
  pre: string,
  chunk: Buffer | undefined,
  framing: Framing,
  endOfStream: boolean,
): boolean {
  const n = chunk === undefined ? 0 : chunk.length;
  let post = '';
  if (framing === FRAMING_CHUNKED) {
    if (n > 0) {
      pre += chunkHead(n);
      post = '\r\n';
    }
    if (endOfStream) post += lastChunk(undefined);
  }
  if (n === 0) return pre.length + post.length === 0 ? true : sock.write(pre + post, 'latin1');
  if (n <= SMALL_BODY) return sock.write(pre + chunk!.toString('latin1') + post, 'latin1');
  sock.cork();
  if (pre.length > 0) sock.write(pre, 'latin1');
  let ok = sock.write(chunk!);
  if (post.length > 0) ok = sock.write(post, 'latin1');
  sock.uncork();
  return ok;
}
