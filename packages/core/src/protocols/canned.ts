/**
 * Pre-built header arrays for the responses the framework writes itself (Pingora's
 * `respond_error`: `Server`, `Content-Length`, `Cache-Control: private, no-store`), one per status
 * and kept for reuse: error pages cost no header building on the hot path.
 */

const SERVER = 'Pingora';
const byStatus = new Map<number, readonly string[]>();

/**
 * Header fields for a framework-written response with a body of `length` bytes. The empty-body
 * arrays are cached; node copies the array when writing, so sharing it is safe.
 */
export function cannedErrorHeaders(status: number, length: number): string[] {
  if (length === 0) {
    let h = byStatus.get(status);
    if (h === undefined) {
      h = Object.freeze(['Server', SERVER, 'Content-Length', '0', 'Cache-Control', 'private, no-store']);
      byStatus.set(status, h);
    }
    return h as string[];
  }
  return ['Server', SERVER, 'Content-Length', String(length), 'Cache-Control', 'private, no-store'];
}
