/**
 * The request line (RFC 9112 §3): method, request-target and its form, version. As llhttp strict,
 * plus the refusals node:http's path adds after llhttp: HTTP/0.9 and HTTP/2.0+ lines, `*` with a
 * method other than OPTIONS, CONNECT without an authority-form target.
 */
import { type ParsedRequestHead, refuse, type TargetForm } from './h1-request-parser-types.js';
import { TCHAR } from './h1-syntax.js';

// llhttp's request methods (node's http.METHODS): it refuses every other token.
const METHODS = new Set(
  'ACL BIND CHECKOUT CONNECT COPY DELETE GET HEAD LINK LOCK M-SEARCH MERGE MKACTIVITY MKCALENDAR MKCOL MOVE NOTIFY OPTIONS PATCH POST PROPFIND PROPPATCH PURGE PUT QUERY REBIND REPORT SEARCH SOURCE SUBSCRIBE TRACE UNBIND UNLINK UNLOCK UNSUBSCRIBE'.split(
    ' ',
  ),
);

const ABSOLUTE = /^[A-Za-z]+:\/\/[A-Za-z0-9._~!$&'()*+,;=:%@[\]-]+(?:[/?#][\x21-\x7e]*)?$/;
const AUTHORITY = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~!$&'()*+,;=%-]+)(?::[0-9]*)?$/;

/**
 * The request line `buf[start, eol)` (without its CRLF); `text` holds the same bytes as a string
 * from `start`. Fills method, target, form and version of `head`.
 */
export function parseRequestLine(
  buf: Buffer,
  start: number,
  eol: number,
  text: string,
  head: ParsedRequestHead,
): void {
  let i = start;
  while (i < eol && TCHAR[buf[i]!] === 1) i++;
  const method = text.slice(0, i - start);
  if (i === start || buf[i] !== 0x20 || !METHODS.has(method)) {
    throw refuse('method', `invalid method ${JSON.stringify(text.slice(0, Math.min(i - start + 1, 32)))}`);
  }
  while (buf[i] === 0x20) i++;
  const t0 = i;
  for (; i < eol; i++) {
    const c = buf[i]!;
    if (c === 0x20) break;
    // VCHAR only: llhttp refuses SP, controls, DEL and obs-text in a target.
    if (c < 0x21 || c > 0x7e) throw refuse('target', 'invalid character in request target');
  }
  if (i === t0) throw refuse('target', 'empty request target');
  const target = text.slice(t0 - start, i - start);
  if (i === eol) throw refuse('http-0.9', 'HTTP/0.9 request line (no version)');
  while (buf[i] === 0x20) i++;
  head.minorVersion = parseVersion(buf, i, eol);
  head.method = method;
  head.target = target;
  head.targetForm = targetForm(method, target);
}

// "HTTP/" DIGIT "." DIGIT, exactly, up to the end of the line.
function parseVersion(buf: Buffer, i: number, eol: number): number {
  const major = buf[i + 5]! - 0x30;
  const minor = buf[i + 7]! - 0x30;
  if (
    eol - i !== 8 ||
    buf[i] !== 0x48 ||
    buf[i + 1] !== 0x54 ||
    buf[i + 2] !== 0x54 ||
    buf[i + 3] !== 0x50 ||
    buf[i + 4] !== 0x2f ||
    buf[i + 6] !== 0x2e ||
    major < 0 ||
    major > 9 ||
    minor < 0 ||
    minor > 9
  ) {
    throw refuse('version', 'invalid HTTP version');
  }
  if (major === 1) return minor === 0 ? 0 : 1;
  if (major === 0) throw refuse('http-0.9', `HTTP/0.${minor} request`);
  throw refuse('version', `HTTP/${major}.${minor} request line`, 505);
}

function targetForm(method: string, target: string): TargetForm {
  if (method === 'CONNECT') {
    if (!AUTHORITY.test(target)) throw refuse('target-form', 'CONNECT needs an authority-form target');
    return 'authority';
  }
  if (target.charCodeAt(0) === 0x2f /* / */) return 'origin';
  if (target === '*') {
    if (method !== 'OPTIONS') throw refuse('target-form', `* target with ${method}`);
    return 'asterisk';
  }
  if (!ABSOLUTE.test(target)) throw refuse('target-form', 'invalid request target');
  return 'absolute';
}
