/**
 * Character classes and small helpers of the HTTP/1 grammar (RFC 9110 §5.6, RFC 9112), shared by
 * the strict request and response parsers. Tables are indexed by a latin1 char code (0–255).
 */

function table(accept: (c: number) => boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let c = 0; c < 256; c++) t[c] = accept(c) ? 1 : 0;
  return t;
}

const TCHAR_EXTRA = "!#$%&'*+-.^_`|~";

/** 1 for a `tchar`: the characters of a token (method, field name, coding). */
export const TCHAR: Uint8Array = table(
  (c) =>
    (c >= 0x30 && c <= 0x39) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    TCHAR_EXTRA.includes(String.fromCharCode(c)),
);

/**
 * 1 for a character allowed in a field value: VCHAR, obs-text, SP and HTAB. NUL, CR, LF, the other
 * controls and DEL are refused (llhttp strict does the same).
 */
export const FIELD_CHAR: Uint8Array = table((c) => c === 0x09 || (c >= 0x20 && c !== 0x7f));

/** `s` without leading and trailing SP/HTAB (optional whitespace). */
export function trimOws(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s.charCodeAt(a) === 0x20 || s.charCodeAt(a) === 0x09)) a++;
  while (b > a && (s.charCodeAt(b - 1) === 0x20 || s.charCodeAt(b - 1) === 0x09)) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}
