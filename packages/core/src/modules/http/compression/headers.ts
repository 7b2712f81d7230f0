/**
 * The response header edits that go with changing a body's content coding: the length and ranges
 * no longer hold, the ETag no longer names these exact bytes, and caches must key on
 * Accept-Encoding.
 */
import type { ResponseHeader } from '@pingora-ts/http';

/**
 * Adds `Accept-Encoding` to `Vary`, merged into the existing value (`Vary: Origin` becomes
 * `Vary: Origin, Accept-Encoding`); nothing changes when it is already listed (any case) or when
 * `Vary: *` already varies on everything.
 */
export function addVaryAcceptEncoding(resp: ResponseHeader): void {
  const existing = resp.headers.getAll('vary');
  if (existing.length === 0) {
    resp.appendHeader('Vary', 'Accept-Encoding');
    return;
  }
  const names: string[] = [];
  for (const value of existing) {
    for (const part of value.split(',')) {
      const name = part.trim();
      if (name === '') continue;
      const lower = name.toLowerCase();
      if (lower === '*' || lower === 'accept-encoding') return;
      names.push(name);
    }
  }
  names.push('Accept-Encoding');
  resp.insertHeader('Vary', names.join(', '));
}

/**
 * Makes a strong ETag weak (`"x"` → `W/"x"`): the validator now stands for a representation whose
 * bytes differ from the origin's (RFC 9110 §8.8.1). A weak one stays; one that is not a quoted
 * string is not a valid ETag and is removed, as nginx does.
 */
export function weakenEtag(resp: ResponseHeader): void {
  const etag = resp.headers.get('etag');
  if (etag === undefined) return;
  const v = etag.trim();
  if (v.startsWith('W/')) return;
  if (v.startsWith('"')) resp.insertHeader('ETag', `W/${v}`);
  else resp.removeHeader('etag');
}

/**
 * The edits common to compressing and decompressing: the body is streamed in another length, so
 * `Content-Length` goes (the writer frames it chunked on HTTP/1) and byte ranges of the new body
 * are not served, so `Accept-Ranges` goes; the ETag is weakened unless `preserveEtag`.
 */
export function prepareRecodedHeader(resp: ResponseHeader, preserveEtag: boolean): void {
  resp.removeHeader('content-length');
  resp.removeHeader('accept-ranges');
  if (!preserveEtag) weakenEtag(resp);
}
