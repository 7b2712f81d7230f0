/**
 * A strict, incremental HTTP/1.x request parser for the downstream session. Bytes may arrive in any
 * split (one at a time included); a head split across reads is gathered in one growing buffer, and
 * body bytes are handed on as slices of the input, never copied. The parser stops after each
 * complete message (and after a head the sink takes over as a tunnel) and returns where it stopped,
 * so pipelined requests are served one at a time, in order: the session feeds the rest when it is
 * ready for the next request.
 *
 * Its rules are llhttp's strict mode, checked byte for byte against node:http by
 * h1-request-differential.test.ts, plus the refusals node:http's path adds after llhttp (duplicate
 * or missing Host, target forms, HTTP/0.9, HTTP/2.0) and a few stricter limits listed there.
 * Every refusal is an {@link H1RequestError} carrying the status to answer (400, 431 or 505).
 */
import { readChunkSize } from './h1-request-parser-chunk.js';
import { parseFieldLine, parseHead } from './h1-request-parser-head.js';
import { parseRequestLine } from './h1-request-parser-line.js';
import { type H1RequestError, type ParsedRequestHead, refuse } from './h1-request-parser-types.js';

export {
  EXPECT_CONTINUE,
  EXPECT_NONE,
  EXPECT_OTHER,
  H1RequestError,
  type ParsedRequestHead,
  type RequestFraming,
  type RequestRejection,
  type TargetForm,
} from './h1-request-parser-types.js';

/** Receives parse events, synchronously from {@link H1RequestParser.execute}. */
export interface RequestParserSink {
  /**
   * A request head. Return `true` to take the connection over from here (an accepted upgrade or
   * CONNECT): `execute` then returns the offset just past the head and the parser is done.
   */
  onHead(head: ParsedRequestHead): boolean | undefined;
  /** A slice of the body (de-chunked); a view of the input buffer, valid as long as it is. */
  onBody(chunk: Buffer): void;
  /** Trailer fields of a chunked body (flat raw array); only called when there are some. */
  onTrailers(rawTrailers: string[]): void;
  /** The request is complete; `execute` returns right after it. */
  onComplete(): void;
}

/** Limits applied while parsing. */
export interface RequestParserLimits {
  /** Largest head in bytes, request line and final empty line included; larger is refused with 431. */
  maxHeadBytes: number;
  /** Most fields in a head (and in a trailer section); more is refused with 431. Pingora: 256. */
  maxHeaders: number;
}

/** node:http's default head size and Pingora's field count. */
export const DEFAULT_REQUEST_LIMITS: RequestParserLimits = Object.freeze({
  maxHeadBytes: 16_384,
  maxHeaders: 256,
});

enum State {
  Head,
  Length,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailers,
  /** After a message that ends the connection: only CR/LF may follow (llhttp's closed state). */
  Closed,
  /** The sink took the connection over after a head. */
  TakenOver,
}

const CR = 0x0d;
const LF = 0x0a;
const MAX_LINE = 4096;
// Searched as Buffers: node's indexOf converts a string needle on every call.
const CRLF = Buffer.from('\r\n', 'latin1');
const CRLF_CRLF = Buffer.from('\r\n\r\n', 'latin1');

/**
 * Incremental parser for one connection.
 *
 * @example
 * ```ts
 * const parser = new H1RequestParser(sink);
 * socket.on('data', (buf) => {
 *   let off = 0;
 *   while (off < buf.length) off = parser.execute(buf, off); // a session pauses here per request
 * });
 * socket.on('end', () => parser.eof());
 * ```
 */
export class H1RequestParser {
  private state = State.Head;
  // A head split across reads: `pending[0, pendingLen)`, grown by doubling.
  private pending: Buffer | undefined = undefined;
  private pendingLen = 0;
  private requestLineChecked = false;
  private crBeforeRequest = false;
  private remaining = 0;
  private line = '';
  private trailers: string[] | undefined = undefined;
  private trailerBytes = 0;
  private keepAlive = true;
  private readonly limits: RequestParserLimits;

  /** `limits`: a complete object is kept as is, so a server shares one across its connections. */
  constructor(
    private readonly sink: RequestParserSink,
    limits: Partial<RequestParserLimits> = DEFAULT_REQUEST_LIMITS,
  ) {
    this.limits =
      limits.maxHeadBytes !== undefined && limits.maxHeaders !== undefined
        ? (limits as RequestParserLimits)
        : { ...DEFAULT_REQUEST_LIMITS, ...limits };
  }

  /** True between requests with nothing of the next one received. */
  get idle(): boolean {
    return (this.state === State.Head && this.pendingLen === 0) || this.state === State.Closed;
  }

  /**
   * Parses `data` from `start`. Returns the offset where it stopped: `data.length` when everything
   * was consumed, less when a request completed (or was taken over) and more bytes follow it.
   * Throws an {@link H1RequestError} on malformed input; the connection must then be closed.
   */
  execute(data: Buffer, start = 0): number {
    let off = start;
    const end = data.length;
    while (off < end) {
      switch (this.state) {
        case State.Head: {
          off = this.readHead(data, off);
          if (off < 0) return end;
          // Stop after a head the sink took over, or a request without a body.
          const s = this.state as State;
          if (s === State.TakenOver || s === State.Head || s === State.Closed) return off;
          break;
        }
        case State.Length: {
          const n = Math.min(this.remaining, end - off);
          this.remaining -= n;
          this.sink.onBody(n === end && off === 0 ? data : data.subarray(off, off + n));
          off += n;
          if (this.remaining === 0) return this.complete(off);
          break;
        }
        case State.ChunkSize: {
          const lf = data.indexOf(LF, off);
          const stop = lf < 0 ? end : lf + 1;
          this.addLine(data, off, stop);
          off = stop;
          if (lf < 0) return end;
          const size = readChunkSize(this.takeLine());
          if (size === 0) {
            this.state = State.Trailers;
            this.trailers = undefined;
            this.trailerBytes = 0;
          } else {
            this.remaining = size;
            this.state = State.ChunkData;
          }
          break;
        }
        case State.ChunkData: {
          const n = Math.min(this.remaining, end - off);
          this.remaining -= n;
          this.sink.onBody(data.subarray(off, off + n));
          off += n;
          if (this.remaining === 0) {
            this.state = State.ChunkDataEnd;
            this.remaining = 2;
          }
          break;
        }
        case State.ChunkDataEnd:
          // Exactly CRLF after the chunk data; `remaining` counts how many of the two are left.
          if (data[off] !== (this.remaining === 2 ? CR : LF))
            throw refuse('chunk-data', 'chunk data not followed by CRLF');
          off++;
          if (--this.remaining === 0) this.state = State.ChunkSize;
          break;
        case State.Trailers: {
          const lf = data.indexOf(LF, off);
          const stop = lf < 0 ? end : lf + 1;
          this.trailerBytes += stop - off;
          if (this.trailerBytes > this.limits.maxHeadBytes)
            throw refuse('head-too-large', 'trailer section too large', 431);
          this.addLine(data, off, stop);
          off = stop;
          if (lf < 0) return end;
          if (this.onTrailerLine(this.takeLine())) return this.complete(off);
          break;
        }
        case State.Closed:
          if (data[off] !== CR && data[off] !== LF)
            throw refuse('data-after-close', 'data after a request that closes the connection');
          off++;
          break;
        case State.TakenOver:
          throw new Error('H1RequestParser: the connection was taken over after the last head');
      }
    }
    return off;
  }

  /**
   * The client closed its side. Throws an {@link H1RequestError} (`incomplete`) when a request was
   * only partly received; between requests this is the normal end of a connection.
   */
  eof(): void {
    if (this.idle || this.state === State.TakenOver) return;
    throw refuse('incomplete', 'client closed the connection mid-request');
  }

  private complete(off: number): number {
    this.state = this.keepAlive ? State.Head : State.Closed;
    this.sink.onComplete();
    return off;
  }

  // Returns the offset after the head, or -1 when all of `data` was consumed without completing it.
  private readHead(data: Buffer, off: number): number {
    const end = data.length;
    if (this.pendingLen === 0) {
      // Empty lines before a request are skipped (RFC 9112 §2.2), as llhttp does; only as CRLF.
      while (off < end) {
        const c = data[off]!;
        if (this.crBeforeRequest) {
          if (c !== LF) throw refuse('line-ending', 'bare CR before the request line');
          this.crBeforeRequest = false;
          off++;
        } else if (c === CR) {
          this.crBeforeRequest = true;
          off++;
        } else if (c === LF) {
          throw refuse('line-ending', 'bare LF before the request line');
        } else break;
      }
      if (off === end) return -1;
      const stop = data.indexOf(CRLF_CRLF, off);
      if (stop >= 0) return this.onHeadBytes(data, off, stop);
      this.checkPartial(data, off, end, off);
      this.appendPending(data, off, end);
      return -1;
    }
    // Continue a split head: search from the last three bytes already held.
    const from = Math.max(0, this.pendingLen - 3);
    const had = this.pendingLen;
    const want = Math.min(end - off, this.limits.maxHeadBytes + 4 - had);
    this.appendPending(data, off, off + Math.max(want, 0));
    const pending = this.pending!;
    const stop = pending.indexOf(CRLF_CRLF, from);
    // The buffer's spare capacity holds stale bytes: a match must lie wholly within what was received.
    if (stop >= 0 && stop + 4 <= this.pendingLen) {
      const used = stop + 4 - had;
      this.pendingLen = 0;
      this.onHeadBytes(pending, 0, stop);
      this.pending = undefined;
      return off + used;
    }
    this.checkPartial(pending, Math.max(0, had - 1), this.pendingLen, 0);
    return -1;
  }

  private onHeadBytes(buf: Buffer, start: number, stop: number): number {
    if (stop + 4 - start > this.limits.maxHeadBytes)
      throw refuse('head-too-large', 'request head too large', 431);
    this.requestLineChecked = false;
    const head = parseHead(buf, start, stop, this.limits.maxHeaders);
    this.keepAlive = head.keepAlive;
    this.remaining = head.contentLength;
    this.state =
      head.framing === 'chunked' ? State.ChunkSize : head.framing === 'length' ? State.Length : State.Head;
    if (this.sink.onHead(head) === true) {
      this.state = State.TakenOver;
      return stop + 4;
    }
    if (this.state === State.Head) this.complete(stop + 4);
    return stop + 4;
  }

  // An incomplete head must fail as soon as it cannot become valid, not when a timeout ends it: a
  // bare LF or CR, an oversized head, or a bad request line once its CRLF is in.
  private checkPartial(buf: Buffer, from: number, to: number, headStart: number): void {
    if (to - headStart > this.limits.maxHeadBytes)
      throw refuse('head-too-large', 'request head too large', 431);
    for (let i = from; i < to; i++) {
      const c = buf[i];
      if (c === LF && (i === headStart || buf[i - 1] !== CR))
        throw refuse('line-ending', 'bare LF in request head');
      if (c === CR && i + 1 < to && buf[i + 1] !== LF) throw refuse('line-ending', 'bare CR in request head');
    }
    if (!this.requestLineChecked) {
      // Bytes before `from` held no CRLF (or the line would have been checked): no rescan.
      const eol = buf.indexOf(CRLF, Math.max(headStart, from - 1));
      if (eol >= 0 && eol < to) {
        const scratch = { rawHeaders: [] } as unknown as ParsedRequestHead;
        parseRequestLine(buf, headStart, eol, buf.toString('latin1', headStart, eol), scratch);
        this.requestLineChecked = true;
      }
    }
  }

  private appendPending(data: Buffer, from: number, to: number): void {
    const n = to - from;
    const need = this.pendingLen + n;
    let p = this.pending;
    if (p === undefined || p.length < need) {
      const grown = Buffer.allocUnsafe(
        Math.max(need, Math.min((p?.length ?? 256) * 2, this.limits.maxHeadBytes + 4)),
      );
      if (p !== undefined) p.copy(grown, 0, 0, this.pendingLen);
      this.pending = p = grown;
    }
    data.copy(p, this.pendingLen, from, to);
    this.pendingLen = need;
  }

  // Chunk-size and trailer lines are short; one split across reads is kept as a string. Trailer
  // lines are bounded by the trailer section's limit, chunk-size lines by MAX_LINE.
  private addLine(data: Buffer, from: number, to: number): void {
    if (this.state === State.ChunkSize && this.line.length + (to - from) > MAX_LINE)
      throw refuse('chunk-extension', 'chunk-size line too long');
    this.line += data.toString('latin1', from, to);
  }

  // The line gathered so far, which ends with LF; refuses it unless that LF follows a CR.
  private takeLine(): string {
    const line = this.line;
    this.line = '';
    if (line.length < 2 || line.charCodeAt(line.length - 2) !== CR)
      throw refuse('line-ending', 'bare LF in chunked body');
    return line.slice(0, -2);
  }

  /** Returns true when the trailer section (and the message) ended. */
  private onTrailerLine(line: string): boolean {
    if (line.length === 0) {
      const t = this.trailers;
      this.trailers = undefined;
      if (t !== undefined) this.sink.onTrailers(t);
      return true;
    }
    let t = this.trailers;
    if (t === undefined) this.trailers = t = [];
    const at = t.length;
    parseFieldLine(Buffer.from(line, 'latin1'), 0, line.length, line, 0, t);
    const name = t[at]!.toLowerCase();
    // Framing fields in trailers would describe a body already read (RFC 9110 §6.5.1).
    if (name === 'content-length' || name === 'transfer-encoding')
      throw refuse('trailer', `${t[at]} in trailers`);
    if (t.length > this.limits.maxHeaders * 2)
      throw refuse('too-many-headers', 'too many trailer fields', 431);
    return false;
  }
}
