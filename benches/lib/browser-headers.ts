/**
 * A desktop browser's request fields (about 700 bytes of head with the request line), for runs
 * that measure a proxy on the heads real clients send rather than wrk's two-field default: parsing,
 * copying and forwarding cost grows with every byte and field.
 */
export const BROWSER_HEADERS: readonly string[] = [
  'User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8',
  'Accept-Language: en-US,en;q=0.9,de;q=0.8',
  'Accept-Encoding: gzip, deflate, br, zstd',
  'Referer: https://www.example.com/items',
  'Cookie: session=0123456789abcdef0123456789abcdef; theme=dark; _ga=GA1.2.1234567890.1234567890',
  'Sec-Fetch-Dest: document',
  'Sec-Fetch-Mode: navigate',
  'Sec-Fetch-Site: same-origin',
  'Sec-Fetch-User: ?1',
  'Upgrade-Insecure-Requests: 1',
  'Cache-Control: max-age=0',
];

/** The request heads a run sends, from `HEADERS`: `browser`, or wrk's bare head otherwise. */
export const BROWSER_HEADS = process.env.HEADERS === 'browser';

/** `-H` arguments for wrk: {@link BROWSER_HEADERS} when {@link BROWSER_HEADS}, none otherwise. */
export const HEAD_ARGS: readonly string[] = BROWSER_HEADS ? BROWSER_HEADERS.flatMap((h) => ['-H', h]) : [];
