/**
 * Content types of the files a static route serves, by extension: the types a website is made of.
 * Anything else is `application/octet-stream`, which browsers download rather than guess at.
 */

const UTF8 = '; charset=utf-8';

const TYPES = new Map<string, string>(
  Object.entries({
    html: `text/html${UTF8}`,
    htm: `text/html${UTF8}`,
    css: `text/css${UTF8}`,
    js: `text/javascript${UTF8}`,
    mjs: `text/javascript${UTF8}`,
    json: `application/json${UTF8}`,
    map: `application/json${UTF8}`,
    webmanifest: `application/manifest+json${UTF8}`,
    txt: `text/plain${UTF8}`,
    md: `text/markdown${UTF8}`,
    csv: `text/csv${UTF8}`,
    xml: `application/xml${UTF8}`,
    svg: 'image/svg+xml',
    png: 'image/png',
    jpg: 'image/jpeg',
    jpeg: 'image/jpeg',
    gif: 'image/gif',
    webp: 'image/webp',
    avif: 'image/avif',
    ico: 'image/x-icon',
    woff: 'font/woff',
    woff2: 'font/woff2',
    ttf: 'font/ttf',
    otf: 'font/otf',
    wasm: 'application/wasm',
    pdf: 'application/pdf',
    zip: 'application/zip',
    gz: 'application/gzip',
    mp4: 'video/mp4',
    webm: 'video/webm',
    mp3: 'audio/mpeg',
    ogg: 'audio/ogg',
    wav: 'audio/wav',
  }),
);

/** The default for unknown extensions. */
export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

/**
 * The Content-Type for a file name, from its extension (case-insensitive).
 *
 * @example
 * ```ts
 * contentTypeOf('site/INDEX.HTML'); // 'text/html; charset=utf-8'
 * ```
 */
export function contentTypeOf(fileName: string): string {
  const dot = fileName.lastIndexOf('.');
  const slash = fileName.lastIndexOf('/');
  if (dot === -1 || dot < slash) return DEFAULT_CONTENT_TYPE;
  return TYPES.get(fileName.slice(dot + 1).toLowerCase()) ?? DEFAULT_CONTENT_TYPE;
}
