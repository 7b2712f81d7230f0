/**
 * HTTP versions as short strings, so `req.version === '1.1'` reads naturally and costs a pointer
 * compare. Node reports `httpVersion` as `'1.1'`, `'1.0'` and `'2.0'`; {@link parseVersion} accepts
 * those spellings too.
 */
import { invalidHeader } from './validate.js';

/** An HTTP version (Pingora's `http::Version`). */
export type HttpVersion = '0.9' | '1.0' | '1.1' | '2' | '3';

/**
 * The versions by Pingora's constant names.
 *
 * @example
 * ```ts
 * req.setVersion(Version.HTTP_11);
 * ```
 */
export const Version = Object.freeze({
  HTTP_09: '0.9',
  HTTP_10: '1.0',
  HTTP_11: '1.1',
  HTTP_2: '2',
  HTTP_3: '3',
} as const satisfies Record<string, HttpVersion>);

/**
 * Normalizes a version string: `'1.1'`, `'HTTP/1.1'`, Node's `'2.0'`, … Throws `InvalidHTTPHeader`
 * for anything else.
 */
export function parseVersion(version: string): HttpVersion {
  switch (version) {
    case '1.1':
    case 'HTTP/1.1':
      return '1.1';
    case '1.0':
    case 'HTTP/1.0':
      return '1.0';
    case '2':
    case '2.0':
    case 'HTTP/2':
    case 'HTTP/2.0':
      return '2';
    case '0.9':
    case 'HTTP/0.9':
      return '0.9';
    case '3':
    case '3.0':
    case 'HTTP/3':
      return '3';
    default:
      throw invalidHeader(`invalid HTTP version ${JSON.stringify(version)}`);
  }
}
