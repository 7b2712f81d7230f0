/**
 * The fields of an HTTP/1.x request head and the body framing they declare. Bytes are checked in
 * the Buffer (typed-array reads are the fastest scan V8 offers); every name, value and the target
 * is a substring of one latin1 string of the head, so a head costs one string, its slices and one
 * array. The rules are llhttp's strict ones (h1-request-differential.test.ts holds them to it) plus
 * the refusals node:http's path adds after llhttp (duplicate or missing Host) and a few stricter
 * limits, each listed in that test.
 */
import { parseRequestLine } from './h1-request-parser-line.js';
import {
  EXPECT_CONTINUE,
  EXPECT_NONE,
  EXPECT_OTHER,
  type ParsedRequestHead,
  refuse,
} from './h1-request-parser-types.js';
import { FIELD_CHAR, TCHAR, trimOws } from './h1-syntax.js';

/**
 * Parses the field line starting at `buf[i]` into `raw` (name, value) and returns where it ends:
 * `end`, or the CR of its CRLF. `text` holds the same bytes as a string from `base`. Refuses
 * whitespace before the colon, a folded line, an empty or non-token name, controls in the value.
 */
export function parseFieldLine(
  buf: Buffer,
  i: number,
  end: number,
  text: string,
  base: number,
  raw: string[],
): number {
  const start = i;
  const first = buf[i];
  if (first === 0x20 || first === 0x09) throw refuse('obs-fold', 'folded or indented header line');
  while (i < end && TCHAR[buf[i]!] === 1) i++;
  if (i === start || i === end || buf[i] !== 0x3a) {
    const c = buf[i];
    const why = c === 0x20 || c === 0x09 ? 'whitespace before colon' : 'invalid header name';
    throw refuse(
      'header-name',
      `${why}: ${JSON.stringify(text.slice(start - base, Math.min(i + 1, start + 64) - base))}`,
    );
  }
  const name = text.slice(start - base, i - base);
  i++;
  while (i < end && (buf[i] === 0x20 || buf[i] === 0x09)) i++;
  const v0 = i;
  for (; i < end; i++) {
    const c = buf[i]!;
    if (FIELD_CHAR[c] !== 1) {
      if (c === 0x0d && buf[i + 1] === 0x0a) break;
      if (c === 0x0d || c === 0x0a) throw refuse('line-ending', 'bare CR or LF in a header line');
      throw refuse('header-value', `invalid character in ${JSON.stringify(name)} value`);
    }
  }
  let v1 = i;
  while (v1 > v0 && (buf[v1 - 1] === 0x20 || buf[v1 - 1] === 0x09)) v1--;
  raw.push(name, text.slice(v0 - base, v1 - base));
  return i;
}

// Case-insensitive name test against `lower` (ASCII lower case) of the same length; the common
// spelling `title` and a first-letter check spare most calls a toLowerCase.
function named(name: string, lower: string, title: string): boolean {
  return (
    name === title ||
    name === lower ||
    ((name.charCodeAt(0) | 0x20) === lower.charCodeAt(0) && name.toLowerCase() === lower)
  );
}

const CONTINUE = /(?:^|\W)100-continue(?:$|\W)/i;
const CLOSE = 1;
const KEEP_ALIVE = 2;
const UPGRADE = 4;

// The connection options of a Connection value that matter here, as bits. llhttp's token reader
// does not see keep-alive or upgrade followed by HTAB, so neither do we (`tabAtEnd`: the field
// ended in HTAB before its trimmed end); close is honoured however it is spelled.
function connectionOptions(value: string, tabAtEnd: boolean): number {
  let bits = 0;
  let start = 0;
  for (;;) {
    let end = value.indexOf(',', start);
    if (end < 0) end = value.length;
    const seg = value.slice(start, end);
    const item = trimOws(seg);
    const last = end === value.length;
    const tabAfter = last ? tabAtEnd : owsTailHasTab(seg);
    if (item.length === 5 && item.toLowerCase() === 'close') bits |= CLOSE;
    else if (!tabAfter && item.length === 10 && item.toLowerCase() === 'keep-alive') bits |= KEEP_ALIVE;
    else if (!tabAfter && item.length === 7 && item.toLowerCase() === 'upgrade') bits |= UPGRADE;
    if (last) return bits;
    start = end + 1;
  }
}

// Whether the whitespace at the end of `s` holds a HTAB.
function owsTailHasTab(s: string): boolean {
  for (let i = s.length - 1; s.charCodeAt(i) === 0x20 || s.charCodeAt(i) === 0x09; i--) {
    if (s.charCodeAt(i) === 0x09) return true;
  }
  return false;
}

// Whether the whitespace just before `end` (a field line's end) holds a HTAB.
function tabBefore(buf: Buffer, end: number): boolean {
  for (let i = end - 1; buf[i] === 0x20 || buf[i] === 0x09; i--) if (buf[i] === 0x09) return true;
  return false;
}

/**
 * Parses the head `buf[start, stop)` (request line and fields; `stop` is where its final CRLFCRLF
 * begins) and decides the body framing. Throws an {@link H1RequestError}.
 */
export function parseHead(buf: Buffer, start: number, stop: number, maxHeaders: number): ParsedRequestHead {
  const text = buf.toString('latin1', start, stop);
  const head: ParsedRequestHead = {
    method: '',
    target: '',
    targetForm: 'origin',
    minorVersion: 1,
    rawHeaders: [],
    framing: 'none',
    contentLength: -1,
    keepAlive: false,
    upgrade: false,
    hasUpgradeField: false,
    expect: EXPECT_NONE,
    hostIndex: -1,
  };
  let eol = buf.indexOf(0x0d, start);
  if (eol < 0 || eol > stop) eol = stop;
  if (eol < stop && buf[eol + 1] !== 0x0a) throw refuse('line-ending', 'bare CR in the request line');
  parseRequestLine(buf, start, eol, text, head);
  const raw = head.rawHeaders;
  let contentLength = -1;
  let te: string | undefined;
  // The last Transfer-Encoding field ended in HTAB: llhttp then does not see its final coding.
  let teTab = false;
  let connection = 0;
  let expect = EXPECT_NONE;
  let pos = eol + 2;
  while (pos < stop) {
    const at = raw.length;
    const lineEnd = parseFieldLine(buf, pos, stop, text, start, raw);
    pos = lineEnd + 2;
    if (at >= maxHeaders * 2) throw refuse('too-many-headers', 'too many header fields', 431);
    const name = raw[at]!;
    switch (name.length) {
      case 4:
        if (named(name, 'host', 'Host')) {
          if (head.hostIndex >= 0) throw refuse('host-duplicate', 'more than one Host field');
          head.hostIndex = at;
        }
        break;
      case 6:
        if (named(name, 'expect', 'Expect')) {
          expect = expect === EXPECT_CONTINUE || CONTINUE.test(raw[at + 1]!) ? EXPECT_CONTINUE : EXPECT_OTHER;
        }
        break;
      case 7:
        if (named(name, 'upgrade', 'Upgrade')) head.hasUpgradeField = true;
        break;
      case 10:
        if (named(name, 'connection', 'Connection')) {
          connection |= connectionOptions(raw[at + 1]!, tabBefore(buf, lineEnd));
        }
        break;
      case 14:
        if (named(name, 'content-length', 'Content-Length')) {
          if (contentLength >= 0) throw refuse('content-length', 'more than one Content-Length field');
          // Digits then SP only: llhttp refuses a HTAB after the number.
          if (tabBefore(buf, lineEnd)) throw refuse('content-length', 'invalid Content-Length');
          contentLength = parseContentLength(raw[at + 1]!);
        }
        break;
      case 17:
        if (named(name, 'transfer-encoding', 'Transfer-Encoding')) {
          te = te === undefined ? raw[at + 1]! : `${te}, ${raw[at + 1]}`;
          teTab = tabBefore(buf, lineEnd);
        }
        break;
    }
  }
  const minor = head.minorVersion;
  if (head.hostIndex < 0 && minor === 1) throw refuse('host-missing', 'HTTP/1.1 request without Host');
  head.upgrade = head.method === 'CONNECT' || (head.hasUpgradeField && (connection & UPGRADE) !== 0);
  head.expect = minor === 1 ? expect : EXPECT_NONE;
  if (te !== undefined) {
    if (contentLength >= 0) throw refuse('transfer-encoding', 'Transfer-Encoding with Content-Length');
    if (teTab || !chunkedLast(te)) throw refuse('transfer-encoding', 'invalid Transfer-Encoding');
    head.framing = 'chunked';
  } else if (contentLength > 0) {
    head.framing = 'length';
    head.contentLength = contentLength;
  }
  // A close option always closes (llhttp ignores it on HTTP/1.0 next to keep-alive), and an HTTP/1.0
  // message with Transfer-Encoding has faulty framing by definition (RFC 9112 §6.1).
  const close = (connection & CLOSE) !== 0;
  head.keepAlive = minor === 1 ? !close : (connection & KEEP_ALIVE) !== 0 && !close && te === undefined;
  return head;
}

// Digits only (OWS already trimmed): no sign, no list, at most 2^53 - 1.
function parseContentLength(value: string): number {
  if (value.length === 0 || value.length > 16) throw refuse('content-length', 'invalid Content-Length');
  let n = 0;
  for (let i = 0; i < value.length; i++) {
    const d = value.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) throw refuse('content-length', 'invalid Content-Length');
    n = n * 10 + d;
  }
  if (n > Number.MAX_SAFE_INTEGER) throw refuse('content-length', 'Content-Length too large');
  return n;
}

// The codings, in order: chunked must be the last one and appear once; the others are tokens.
function chunkedLast(te: string): boolean {
  const codings = te.split(',');
  let last = '';
  for (let i = 0; i < codings.length; i++) {
    const c = trimOws(codings[i]!).toLowerCase();
    if (c.length === 0) {
      if (i === codings.length - 1) return false;
      continue;
    }
    if (last === 'chunked') return false;
    for (let j = 0; j < c.length; j++) if (TCHAR[c.charCodeAt(j)] !== 1) return false;
    last = c;
  }
  return last === 'chunked';
}
