/**
 * A strict, incremental HTTP/1.x response parser for the upstream client. It exists because the
 * proxy needs the raw header array (case and order kept), exact framing decisions, and control
 * over what a malformed or ambiguous response does to a pooled connection — things Node's client
 * stack hides. It is small on purpose: responses come from origins we chose, but an origin that
 * sends ambiguous framing must never desynchronise a keep-alive connection, so every ambiguity is
 * either an error or makes the connection non-reusable. Internal to `H1ClientSession`, which turns
 * each head into a `ResponseHeader` and the protocol-neutral facts of upstream-session.ts.
 */
import { ErrorType, PingoraError } from '@pingora-ts/error';
import { FIELD_CHAR, TCHAR, trimOws } from './h1-syntax.js';

/** How the body of a response is delimited (RFC 9112 §6.3). */
export type BodyFraming = 'none' | 'length' | 'chunked' | 'close';

/** A parsed response head. `rawHeaders` is a flat [name, value, …] array in wire order and case. */
export interface ParsedResponseHead {
  status: number;
  reason: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  minorVersion: number;
  rawHeaders: string[];
  framing: BodyFraming;
  /** Declared body length for `length` framing, else -1. */
  contentLength: number;
  /** False when the origin asked to close, spoke HTTP/1.0 without keep-alive, or framed ambiguously. */
  keepAlive: boolean;
  /** The response switches protocols (101, or 2xx to CONNECT). */
  upgrade: boolean;
}

/** Receives parse events. Called synchronously from {@link H1ResponseParser.execute}. */
export interface ResponseParserSink {
  /** A 1xx other than 101; parsing continues with the next head. */
  onInformational(head: ParsedResponseHead): void;
  /** The final response head. */
  onHead(head: ParsedResponseHead): void;
  /** A slice of body (already de-chunked). */
  onBody(chunk: Buffer): void;
  /** Trailer fields of a chunked body (flat raw array); only called when there are some. */
  onTrailers(rawTrailers: string[]): void;
  /** The message is complete; `rest` holds bytes that followed it (unexpected data, or the first tunnel bytes after a 101). */
  onComplete(rest: Buffer | undefined): void;
}

/** Limits applied while parsing. */
export interface ResponseParserLimits {
  /** Largest head (status line + fields) in bytes. Pingora: 1 MiB − 1. */
  maxHeadBytes: number;
  /** Most header fields in one head. Pingora: 256. */
  maxHeaders: number;
}

const DEFAULT_LIMITS: ResponseParserLimits = { maxHeadBytes: 1_048_575, maxHeaders: 256 };
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Field values: visible ASCII, obs-text, SP and HTAB only; CR, LF, NUL and other CTLs are refused.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const BAD_VALUE = /[\0-\x08\x0a-\x1f\x7f]/;
const CHUNK_SIZE = /^[0-9A-Fa-f]{1,15}$/;
const MAX_LINE = 8192;
// A Buffer needle: a string one is converted on every search (about 100 ns more per head).
const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');

enum State {
  Head,
  Length,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailers,
  UntilClose,
  Done,
}

function invalid(context: string): PingoraError {
  return PingoraError.explain(ErrorType.H1Error, context).asUp();
}

/**
 * Incremental parser for one connection. Call {@link reset} before each request (with whether the
 * request was HEAD), feed socket data to {@link execute}, and call {@link eof} when the socket ends.
 */
export class H1ResponseParser {
  private state = State.Done;
  private pending: Buffer | undefined;
  private partial = '';
  private remaining = 0;
  private noBody = false;
  private readonly limits: ResponseParserLimits;

  constructor(
    private readonly sink: ResponseParserSink,
    limits: Partial<ResponseParserLimits> = {},
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  /** Prepare for the response to a new request. `headRequest` forces an empty body. */
  reset(headRequest: boolean): void {
    this.state = State.Head;
    this.pending = undefined;
    this.partial = '';
    this.remaining = 0;
    this.noBody = headRequest;
  }

  /** True while a response is expected or being read. */
  get busy(): boolean {
    return this.state !== State.Done;
  }

  /** True when no byte of the current response has arrived yet. */
  get awaitingFirstByte(): boolean {
    return this.state === State.Head && this.pending === undefined;
  }

  /** Feed bytes. Throws a `PingoraError` (H1Error, source Upstream) on malformed input. */
  execute(data: Buffer): void {
    let buf = data;
    let off = 0;
    while (off < buf.length) {
      switch (this.state) {
        case State.Head: {
          if (this.pending !== undefined) {
            buf = Buffer.concat([this.pending, buf.subarray(off)]);
            off = 0;
            this.pending = undefined;
          }
          const end = buf.indexOf(HEAD_END, off);
          if (end < 0) {
            if (buf.length - off > this.limits.maxHeadBytes) throw invalid('response header too large');
            checkStatusLinePrefix(buf, off);
            this.pending = Buffer.from(buf.subarray(off));
            return;
          }
          if (end - off > this.limits.maxHeadBytes) throw invalid('response header too large');
          const head = this.parseHead(buf, off, end);
          off = end + 4;
          if (head.status < 200 && head.status !== 101) {
            this.sink.onInformational(head);
            break;
          }
          this.startBody(head);
          this.sink.onHead(head);
          if (head.upgrade || (this.state as State) === State.Done) {
            this.complete(buf, off);
            return;
          }
          break;
        }
        case State.Length: {
          const n = Math.min(this.remaining, buf.length - off);
          this.remaining -= n;
          this.sink.onBody(n === buf.length && off === 0 ? buf : buf.subarray(off, off + n));
          off += n;
          if (this.remaining === 0) {
            this.state = State.Done;
            this.complete(buf, off);
            return;
          }
          break;
        }
        case State.UntilClose:
          this.sink.onBody(off === 0 ? buf : buf.subarray(off));
          return;
        case State.ChunkSize:
        case State.Trailers: {
          // Chunk-size and trailer lines are short; a line split across reads is kept in `partial`.
          const lf = buf.indexOf(0x0a, off);
          if (lf < 0) {
            this.partial += buf.toString('latin1', off);
            if (this.partial.length > MAX_LINE) throw invalid('chunk size or trailer line too long');
            return;
          }
          const line = this.partial + buf.toString('latin1', off, lf);
          this.partial = '';
          off = lf + 1;
          if (line.length > MAX_LINE || line.charCodeAt(line.length - 1) !== 0x0d) {
            throw invalid('chunk size or trailer line not ended by CRLF');
          }
          if (this.state === State.ChunkSize) this.onChunkSizeLine(line.slice(0, -1));
          else if (this.onTrailerLine(line.slice(0, -1))) {
            this.complete(buf, off);
            return;
          }
          break;
        }
        case State.ChunkData: {
          const n = Math.min(this.remaining, buf.length - off);
          this.remaining -= n;
          this.sink.onBody(buf.subarray(off, off + n));
          off += n;
          if (this.remaining === 0) {
            this.state = State.ChunkDataEnd;
            this.remaining = 2;
          }
          break;
        }
        case State.ChunkDataEnd: {
          // Expect exactly CRLF after chunk data; `remaining` counts how many of the two are left.
          const want = this.remaining === 2 ? 0x0d : 0x0a;
          if (buf[off] !== want) throw invalid('missing CRLF after chunk data');
          off++;
          if (--this.remaining === 0) this.state = State.ChunkSize;
          break;
        }
        case State.Done:
          // Callers feed bytes only while a response is outstanding; anything else is a protocol error.
          throw invalid('data received with no request outstanding');
      }
    }
  }

  /**
   * The connection reached EOF. Completes a close-delimited body; any other unfinished message
   * is an error (`ConnectionClosed`, retryable on a reused connection when nothing arrived yet).
   */
  eof(): void {
    if (this.state === State.UntilClose) {
      this.state = State.Done;
      this.sink.onComplete(undefined);
      return;
    }
    if (this.state === State.Done) return;
    const nothingYet = this.awaitingFirstByte;
    this.state = State.Done;
    const e = PingoraError.explain(
      ErrorType.ConnectionClosed,
      nothingYet ? 'upstream closed before sending a response' : 'upstream closed mid-response',
    ).asUp();
    if (nothingYet) e.setRetry('ReusedOnly');
    throw e;
  }

  private complete(buf: Buffer, off: number): void {
    this.state = State.Done;
    this.sink.onComplete(off < buf.length ? buf.subarray(off) : undefined);
  }

  private startBody(head: ParsedResponseHead): void {
    if (head.upgrade) {
      this.state = State.Done;
      return;
    }
    if (this.noBody || head.status === 204 || head.status === 304) {
      head.framing = 'none';
      this.state = State.Done;
      return;
    }
    switch (head.framing) {
      case 'length':
        this.remaining = head.contentLength;
        this.state = head.contentLength === 0 ? State.Done : State.Length;
        return;
      case 'chunked':
        this.state = State.ChunkSize;
        return;
      case 'close':
        this.state = State.UntilClose;
        return;
      case 'none':
        this.state = State.Done;
    }
  }

  private onChunkSizeLine(line: string): void {
    const semi = line.indexOf(';');
    const size = (semi < 0 ? line : line.slice(0, semi)).trimEnd();
    if (!CHUNK_SIZE.test(size)) throw invalid('invalid chunk size');
    if (semi >= 0 && BAD_VALUE.test(line)) throw invalid('invalid chunk extension');
    const n = Number.parseInt(size, 16);
    if (n === 0) {
      this.state = State.Trailers;
      this.trailers = undefined;
    } else {
      this.remaining = n;
      this.state = State.ChunkData;
    }
  }

  private trailers: string[] | undefined;

  /** Returns true when the trailer section (and the message) ended. */
  private onTrailerLine(line: string): boolean {
    if (line.length === 0) {
      this.state = State.Done;
      if (this.trailers !== undefined) this.sink.onTrailers(this.trailers);
      this.trailers = undefined;
      return true;
    }
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    const value = trimOws(line.slice(colon + 1));
    if (!TOKEN.test(name) || BAD_VALUE.test(value)) throw invalid('invalid trailer field');
    if (this.trailers === undefined) this.trailers = [];
    this.trailers.push(name, value);
    if (this.trailers.length > this.limits.maxHeaders * 2) throw invalid('too many trailer fields');
    return false;
  }

  // One pass over the head with byte tables: bytes are read from the Buffer (a typed-array read
  // costs half a string's charCodeAt), names and values are slices of one latin1 string of the
  // head, and nothing is lowercased or matched by regex.
  private parseHead(buf: Buffer, start: number, stop: number): ParsedResponseHead {
    const text = buf.toString('latin1', start, stop);
    let eol = text.indexOf('\r\n');
    if (eol < 0) eol = text.length;
    // "HTTP/1.1 200 OK": version, one space, three digits, then a space or the end of the line.
    if (
      eol < 12 ||
      !text.startsWith('HTTP/1.') ||
      text.charCodeAt(8) !== 0x20 ||
      (eol > 12 && text.charCodeAt(12) !== 0x20)
    ) {
      throw invalid('invalid status line');
    }
    const minor = text.charCodeAt(7) - 0x30;
    const d0 = text.charCodeAt(9) - 0x30;
    const d1 = text.charCodeAt(10) - 0x30;
    const d2 = text.charCodeAt(11) - 0x30;
    if ((minor !== 0 && minor !== 1) || !isDigit(d0) || !isDigit(d1) || !isDigit(d2) || d0 === 0) {
      throw invalid('invalid status line');
    }
    const status = d0 * 100 + d1 * 10 + d2;
    if (eol > 13 && !isFieldValue(buf, start + 13, start + eol)) throw invalid('invalid reason phrase');
    const reason = eol > 13 ? text.slice(13, eol) : '';

    const raw: string[] = [];
    const maxRaw = this.limits.maxHeaders * 2;
    let contentLength = -1;
    let chunked = false;
    let transferEncoding = false;
    let close = minor === 0;
    let ambiguous = false;
    // Positions below are in `buf`; `text[i - start]` is the character of `buf[i]`. One scan per
    // line: the name's tchars, the colon, then value bytes up to the CR that must end the line.
    let pos = start + eol + 2;
    while (pos < stop) {
      let colon = pos;
      while (colon < stop && TCHAR[buf[colon]!] === 1) colon++;
      if (colon === pos || buf[colon] !== 0x3a) throw invalidField(buf, pos, stop);
      let vs = colon + 1;
      while (vs < stop && isOws(buf[vs]!)) vs++;
      let next = vs;
      while (next < stop && FIELD_CHAR[buf[next]!] === 1) next++;
      if (next < stop && (buf[next] !== 0x0d || buf[next + 1] !== 0x0a)) throw invalidField(buf, pos, stop);
      let ve = next;
      while (ve > vs && isOws(buf[ve - 1]!)) ve--;
      const name = text.slice(pos - start, colon - start);
      const value = text.slice(vs - start, ve - start);
      raw.push(name, value);
      if (raw.length > maxRaw) throw invalid('too many header fields');
      switch (name.length) {
        case 14:
          if (nameIs(buf, pos, 'content-length')) {
            const n = parseContentLength(value);
            if (n < 0 || (contentLength >= 0 && n !== contentLength)) throw invalid('invalid Content-Length');
            contentLength = n;
          }
          break;
        case 17:
          if (nameIs(buf, pos, 'transfer-encoding')) {
            transferEncoding = true;
            chunked = CHUNKED_LAST.test(value);
          }
          break;
        case 10:
          if (nameIs(buf, pos, 'connection')) {
            const v = value.toLowerCase();
            if (v.includes('close')) close = true;
            else if (minor === 0 && v.includes('keep-alive')) close = false;
          }
          break;
      }
      pos = next + 2;
    }

    let framing: BodyFraming;
    if (status === 101) framing = 'none';
    else if (transferEncoding) {
      // TE overrides CL (RFC 9112 §6.3); a response carrying both is suspect, so it is not reused.
      if (contentLength >= 0) ambiguous = true;
      framing = chunked ? 'chunked' : 'close';
      if (!chunked) close = true;
    } else if (contentLength >= 0) framing = 'length';
    else {
      framing = 'close';
      close = true;
    }
    return {
      status,
      reason,
      minorVersion: minor,
      rawHeaders: raw,
      framing,
      contentLength: framing === 'length' ? contentLength : -1,
      keepAlive: !close && !ambiguous,
      upgrade: status === 101,
    };
  }
}

const CHUNKED_LAST = /(?:^|,)[ \t]*chunked[ \t]*$/i;

function isDigit(d: number): boolean {
  return d >= 0 && d <= 9;
}

function isOws(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

// The whole line from `pos` named in the error, as the origin sent it.
function invalidField(buf: Buffer, pos: number, stop: number): PingoraError {
  let end = buf.indexOf(0x0d, pos);
  if (end < 0 || end > stop) end = stop;
  return invalid(`invalid header field ${JSON.stringify(buf.toString('latin1', pos, end))}`);
}

/** Every byte of `buf[from, to)` may appear in a field value (VCHAR, obs-text, SP, HTAB). */
function isFieldValue(buf: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (FIELD_CHAR[buf[i]!] !== 1) return false;
  return true;
}

/** The name at `buf[pos…]` is `lower` (same length, checked by the caller), ASCII case-insensitive. */
function nameIs(buf: Buffer, pos: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    // Names are tchars: setting bit 0x20 folds letters only; '-' (0x2d) and digits keep theirs.
    if ((buf[pos + i]! | 0x20) !== lower.charCodeAt(i)) return false;
  }
  return true;
}

const STATUS_PREFIX = 'HTTP/1.';
// biome-ignore lint/suspicious/noControlCharactersInRegex: the reason phrase must have none
const STATUS_LINE = /^HTTP\/1\.[01] [0-9]{3}(?: [^\0-\x08\x0a-\x1f\x7f]*)?\r\n$/;

/**
 * Checks the start of a head that is not complete yet. An origin that answers with something other
 * than a status line, and then goes quiet, must fail now: waiting for a blank line that may never
 * come would hold the client until the read timeout, or forever without one. So the bytes so far
 * must be a prefix of `HTTP/1.x NNN`, and once the first line has ended it must be a whole status
 * line ended by CRLF.
 */
function checkStatusLinePrefix(buf: Buffer, off: number): void {
  const n = Math.min(buf.length - off, 13);
  for (let i = 0; i < n; i++) {
    const c = buf[off + i]!;
    const ok =
      i < 7
        ? c === STATUS_PREFIX.charCodeAt(i)
        : i === 7
          ? c === 0x30 || c === 0x31
          : i === 8
            ? c === 0x20
            : i === 12
              ? c === 0x20 || c === 0x0d
              : c >= 0x30 && c <= 0x39;
    if (!ok) throw invalid('invalid status line');
  }
  const lf = buf.indexOf(0x0a, off);
  if (lf >= 0 && !STATUS_LINE.test(buf.toString('latin1', off, lf + 1))) throw invalid('invalid status line');
}

// A Content-Length value: digits, or a list of identical digit strings ("5, 5").
function parseContentLength(value: string): number {
  // The usual value: up to 15 digits and nothing else.
  const n = value.length;
  if (n > 0 && n <= 15) {
    let v = 0;
    let i = 0;
    for (; i < n; i++) {
      const d = value.charCodeAt(i) - 0x30;
      if (d < 0 || d > 9) break;
      v = v * 10 + d;
    }
    if (i === n) return v;
  }
  let result = -1;
  for (const part of value.split(',')) {
    const p = trimOws(part);
    if (!/^[0-9]{1,15}$/.test(p)) return -1;
    const n = Number(p);
    if (result >= 0 && n !== result) return -1;
    result = n;
  }
  return result;
}
