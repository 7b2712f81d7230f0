/**
 * What the raw HTTP/1.x engine answers and logs when it refuses a connection's input itself: the
 * bare closing responses (400, 405, 408, 417, 431, 505) and the reason a refused request is logged
 * with, in the words node:http's path uses (apps/client-error.ts, apps/h1-request-target.ts).
 */
import { toOriginForm } from '../apps/h1-request-target.js';
import type { H1RequestError } from './h1-request-parser.js';

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  417: 'Expectation Failed',
  431: 'Request Header Fields Too Large',
  505: 'HTTP Version Not Supported',
};

/** A response with no body that ends the connection. */
export function closingResponse(status: number): string {
  return `HTTP/1.1 ${status} ${REASONS[status] ?? ''}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`;
}

// Method and target of a request line.
const REQUEST_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) ([^ \r\n]+) /;

/**
 * Why `e` refused a request, for the log line. A refused absolute-form target is explained as
 * node:http's path explains it (its authority, its scheme), from the request line still in `buf`
 * at `off`; anything else by the parser's own reason.
 */
export function refusalReason(e: H1RequestError, buf: Buffer | undefined, off: number): string {
  const why = e.context ?? e.message;
  if (e.rejection !== 'target-form' || buf === undefined) return why;
  const line = REQUEST_LINE.exec(buf.toString('latin1', off, Math.min(buf.length, off + 8192)));
  if (line === null || !line[2]!.includes('://')) return why;
  return toOriginForm({ method: line[1], url: line[2], rawHeaders: [] } as never) ?? why;
}
