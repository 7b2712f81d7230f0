/**
 * One scan of an HTTP/1.x request's raw fields for what the session must know before anything
 * else: body framing, Host, Upgrade.
 */

/** Bit of {@link scanFields}: the request has a body (a non-zero Content-Length, or chunked). */
export const HAS_BODY = 1;
/**
 * Bit of {@link scanFields}: a Transfer-Encoding whose last coding is not chunked. llhttp refuses
 * it, but only after the request event; answering here keeps it away from the upstream entirely.
 */
export const BAD_TRANSFER_ENCODING = 2;
/** Bit of {@link scanFields}: a Host field is present. */
export const HAS_HOST = 4;
/**
 * Bit of {@link scanFields}: two Host lines. They name two targets: whichever one the origin picks,
 * a phase may have routed on the other, so such a request is refused rather than forwarded.
 */
export const DUPLICATE_HOST = 8;
/** Bit of {@link scanFields}: an Upgrade field is present. */
export const HAS_UPGRADE = 16;

/**
 * Scans the raw request fields once for framing and Host. Names are compared by length first so the
 * common request costs a few integer compares; `req.headers` would build an object per request.
 */
export function scanFields(raw: string[]): number {
  let result = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 4) {
      if (name.toLowerCase() === 'host') result |= result & HAS_HOST ? DUPLICATE_HOST : HAS_HOST;
    } else if (name.length === 7) {
      if (name.toLowerCase() === 'upgrade') result |= HAS_UPGRADE;
    } else if (name.length === 17 && name.toLowerCase() === 'transfer-encoding') {
      result |= /(?:^|,)[ \t]*chunked[ \t]*$/i.test(raw[i + 1]!) ? HAS_BODY : BAD_TRANSFER_ENCODING;
    } else if (name.length === 14 && name.toLowerCase() === 'content-length' && raw[i + 1] !== '0') {
      result |= HAS_BODY;
    }
  }
  return result;
}
