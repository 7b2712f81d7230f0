/**
 * Which responses are worth compressing, judged from the response header alone (the request-side
 * rules, HEAD and Accept-Encoding, live in the module).
 */
import type { ResponseHeader } from '@pingora-ts/http';

/**
 * Bodies with a known length below this are sent as they are. Under ~256 bytes gzip's 18 bytes of
 * framing plus a fresh Huffman table rarely save more than a few dozen bytes, while each encoder
 * still costs its setup (a deflate state is ~256 KB) and CPU; and such a body fits in the first
 * packet either way, so compressing it saves no round trip.
 */
export const MIN_COMPRESS_LENGTH = 256;

/**
 * Media types sent as they are because their content is already compressed (or is opaque binary
 * that rarely shrinks). Anything else with a Content-Type is compressed; see {@link compressibleType}.
 */
const INCOMPRESSIBLE_TYPES: ReadonlySet<string> = new Set([
  'application/gzip',
  'application/x-gzip',
  'application/zstd',
  'application/x-bzip2',
  'application/x-xz',
  'application/x-7z-compressed',
  'application/vnd.rar',
  'application/x-rar-compressed',
  'application/octet-stream',
  'font/woff',
  'font/woff2',
]);

/** The image types that are text or uncompressed bitmaps, so they do shrink. */
const COMPRESSIBLE_IMAGES: ReadonlySet<string> = new Set([
  'image/svg+xml',
  'image/x-icon',
  'image/vnd.microsoft.icon',
  'image/bmp',
]);

/**
 * Whether a body of this `Content-Type` is worth compressing: not without a type (unknown content
 * is most often binary), not `image/*` (except SVG, icons and BMP), `video/*`, `audio/*`,
 * `multipart/*` (streams of parts, often already-coded images), any type with `zip` in its name
 * (`application/zip`, `…+zip`), archives, `application/octet-stream` and WOFF fonts. Everything
 * else, text and structured data above all, is.
 */
export function compressibleType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const semi = contentType.indexOf(';');
  const type = (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
  const slash = type.indexOf('/');
  if (slash <= 0) return false;
  const top = type.slice(0, slash);
  if (top === 'image') return COMPRESSIBLE_IMAGES.has(type);
  if (top === 'video' || top === 'audio' || top === 'multipart') return false;
  return !type.includes('zip') && !INCOMPRESSIBLE_TYPES.has(type);
}

/** Whether `Cache-Control` forbids intermediaries to transform the content (RFC 9111 §5.2). */
export function noTransform(resp: ResponseHeader): boolean {
  for (const value of resp.headers.getAll('cache-control')) {
    for (const directive of value.split(',')) {
      if (directive.trim().toLowerCase() === 'no-transform') return true;
    }
  }
  return false;
}

/** The body length declared by `Content-Length`, or `undefined` when absent or not a number. */
export function declaredLength(resp: ResponseHeader): number | undefined {
  const cl = resp.headers.get('content-length');
  if (cl === undefined) return undefined;
  const v = cl.trim();
  return /^\d+$/.test(v) ? Number(v) : undefined;
}

/** Whether the response can carry a body that can be re-coded as a whole. */
export function transformableStatus(resp: ResponseHeader): boolean {
  const status = resp.status;
  return status !== 204 && status !== 304 && status !== 206 && !resp.headers.has('content-range');
}
