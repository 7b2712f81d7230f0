/**
 * The chunk-size line of a chunked request body (RFC 9112 §7.1), without its CRLF: hex digits,
 * then extensions. As llhttp strict: no whitespace anywhere, no sign, no `0x`; each extension is
 * `;name` or `;name=value` with a token or quoted-string value. Stricter than llhttp: a size above
 * 2^53 − 1 (llhttp takes up to 2^64 − 1) and an empty extension name are refused.
 */
import { refuse } from './h1-request-parser-types.js';
import { TCHAR } from './h1-syntax.js';

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  return l >= 0x61 && l <= 0x66 ? l - 0x61 + 10 : -1;
}

/** The size a chunk-size line declares; throws an `H1RequestError` for any malformed line. */
export function readChunkSize(line: string): number {
  let i = 0;
  let n = 0;
  for (; i < line.length; i++) {
    const d = hexDigit(line.charCodeAt(i));
    if (d < 0) break;
    n = n * 16 + d;
    if (n > Number.MAX_SAFE_INTEGER) throw refuse('chunk-size', 'chunk size too large');
  }
  if (i === 0) throw refuse('chunk-size', 'invalid chunk size');
  if (i < line.length) readExtensions(line, i);
  return n;
}

// `;name[=value]`, repeated, up to the end of the line.
function readExtensions(line: string, start: number): void {
  let i = start;
  while (i < line.length) {
    if (line.charCodeAt(i) !== 0x3b /* ; */) throw refuse('chunk-size', 'invalid chunk size');
    const name = ++i;
    while (i < line.length && TCHAR[line.charCodeAt(i)] === 1) i++;
    if (i === name) throw refuse('chunk-extension', 'invalid chunk extension');
    if (i === line.length || line.charCodeAt(i) === 0x3b) continue;
    if (line.charCodeAt(i) !== 0x3d /* = */) throw refuse('chunk-extension', 'invalid chunk extension');
    i++;
    if (line.charCodeAt(i) === 0x22 /* " */) i = quotedStringEnd(line, i);
    else {
      const value = i;
      while (i < line.length && TCHAR[line.charCodeAt(i)] === 1) i++;
      if (i === value) throw refuse('chunk-extension', 'invalid chunk extension');
    }
  }
}

// Index after the quoted-string that starts at `open`: qdtext and quoted-pairs of visible ASCII and
// SP only (stricter than RFC 9110, which also admits HTAB and obs-text).
function quotedStringEnd(line: string, open: number): number {
  for (let i = open + 1; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 0x22) return i + 1;
    if (c === 0x5c /* \ */) {
      i++;
      const e = line.charCodeAt(i);
      if (!(e >= 0x20 && e < 0x7f)) break;
    } else if (!(c >= 0x20 && c < 0x7f)) break;
  }
  throw refuse('chunk-extension', 'invalid chunk extension');
}
