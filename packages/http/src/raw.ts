/**
 * Primitive operations on a flat raw header array `[name0, value0, name1, value1, …]`, the shape of
 * Node's `req.rawHeaders`. Everything here is a linear scan: messages carry a dozen or two fields, and
 * a scan over a few short strings beats building a `Map` (or a lowercase-keyed object) per message.
 */

/**
 * ASCII case-insensitive equality of two header names, without allocating lowercased copies.
 * Only ASCII letters fold, which is exact for header names (tokens are ASCII).
 */
export function eqIgnoreCase(a: string, b: string): boolean {
  const n = a.length;
  if (n !== b.length) return false;
  if (a === b) return true;
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      const lx = x | 0x20;
      // Folding is only sound for letters: '@' | 0x20 === '`' must not compare equal.
      if (lx !== (y | 0x20) || lx < 0x61 || lx > 0x7a) return false;
    }
  }
  return true;
}

/** Index (even) of the first field called `name` at or after `from`, or -1. */
export function indexOfName(raw: readonly string[], name: string, from = 0): number {
  const n = raw.length - 1;
  for (let i = from; i < n; i += 2) {
    if (eqIgnoreCase(raw[i]!, name)) return i;
  }
  return -1;
}

/**
 * Removes every field called `name` at or after `from` (an even index), keeping the order of the
 * others, and returns the number of fields removed. In place: one pass, no new array.
 */
export function removeNameFrom(raw: string[], name: string, from: number): number {
  const n = raw.length - 1;
  let w = from;
  for (let r = from; r < n; r += 2) {
    const k = raw[r]!;
    if (eqIgnoreCase(k, name)) continue;
    if (w !== r) {
      raw[w] = k;
      raw[w + 1] = raw[r + 1]!;
    }
    w += 2;
  }
  const removed = (raw.length - w) >> 1;
  raw.length = w;
  return removed;
}

/** Every value of the fields called `name`, in order. */
export function valuesOf(raw: readonly string[], name: string): string[] {
  const out: string[] = [];
  const n = raw.length - 1;
  for (let i = 0; i < n; i += 2) {
    if (eqIgnoreCase(raw[i]!, name)) out.push(raw[i + 1]!);
  }
  return out;
}

/** Whether a comma-separated list value contains `token` (ASCII case-insensitive, OWS trimmed). */
export function hasListToken(value: string, token: string): boolean {
  if (eqIgnoreCase(value, token)) return true;
  let start = 0;
  const n = value.length;
  while (start <= n) {
    let end = value.indexOf(',', start);
    if (end < 0) end = n;
    let s = start;
    let e = end;
    while (s < e && isOws(value.charCodeAt(s))) s++;
    while (e > s && isOws(value.charCodeAt(e - 1))) e--;
    if (e - s === token.length && eqIgnoreCase(value.slice(s, e), token)) return true;
    start = end + 1;
  }
  return false;
}

/** SP or HTAB: optional whitespace around list elements (RFC 9110 §5.6.3). */
export function isOws(c: number): boolean {
  return c === 0x20 || c === 0x09;
}
