/**
 * Malformed requests: node's strict parser (llhttp) rejects them before any app code runs. Each
 * gets the right status and one log line, and only that connection is closed — never the process.
 * This is where request-smuggling attempts end (CL + TE, duplicate or bad Content-Length,
 * obfuscated Transfer-Encoding, bare CR/LF, invalid header bytes).
 *
 * One refusal of llhttp's is undone: it takes only HTTP/1.0 and HTTP/1.1, but a request line naming
 * a later HTTP/1 minor version must be served as the highest version we speak, so such a request
 * is handed back to node with its version rewritten to 1.1.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '../logger.js';

// A request line as llhttp reads it: method, target, version (one digit on each side of the dot).
const REQUEST_LINE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+ [^ \r\n]+ HTTP\/([0-9])\.([0-9])\r\n/;

function statusFor(code: string | undefined, major: number): [number, string] {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return [431, 'Request Header Fields Too Large'];
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return [408, 'Request Timeout'];
    case 'HPE_INVALID_VERSION':
      return major > 1 ? [505, 'HTTP Version Not Supported'] : [400, 'Bad Request'];
    default:
      return [400, 'Bad Request'];
  }
}

/** Answers a request node could not parse, logs why, and closes the connection. */
export function handleClientError(
  err: NodeJS.ErrnoException,
  socket: Socket,
  logger: Logger,
  server?: Server,
): void {
  socket.on('error', noop);
  const code = err.code;
  // A reset or a response already on the wire leaves nothing to answer. A request whose body
  // turned out malformed after its head was accepted still gets its 400 if nothing was sent yet.
  const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
  if (code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent === true) {
    logger.warn(
      { code, client: socket.remoteAddress },
      `dropped connection with malformed request data: ${err.message}`,
    );
    socket.destroy();
    return;
  }
  let major = 0;
  if (code === 'HPE_INVALID_VERSION') {
    const packet = (err as { rawPacket?: unknown }).rawPacket;
    const line = Buffer.isBuffer(packet) ? REQUEST_LINE.exec(packet.toString('latin1', 0, 8192)) : null;
    if (line !== null) {
      major = Number(line[1]);
      if (major === 1 && server !== undefined && inFlight == null) {
        const retried = serveAsHttp11(socket, server, packet as Buffer, line[0].length - 3);
        if (retried) return;
      }
    }
  }
  const [status, reason] = statusFor(code, major);
  logger.warn(
    { code, reason: (err as { reason?: string }).reason, client: socket.remoteAddress, status },
    `rejected malformed request: ${err.message}`,
  );
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
  // The app may still hold this request; closing the socket ends it as a client that went away.
  socket.destroySoon();
}

// The listeners node's HTTP server puts on a connection (its upgrade path removes the same ones).
const SERVER_LISTENERS: ReadonlyArray<[string, string]> = [
  ['data', 'bound socketOnData'],
  ['end', 'bound socketOnEnd'],
  ['close', 'bound socketOnClose'],
  ['drain', 'bound socketOnDrain'],
  ['timeout', 'socketOnTimeout'],
  ['pause', 'onSocketPause'],
  ['resume', 'onSocketResume'],
];

interface NodeParser {
  _consumed?: boolean;
  socket?: unknown;
  unconsume?(): void;
  remove?(): void;
  close?(): void;
}

/**
 * Detaches the failed parser from `socket` the way node does for an upgrade, then gives the
 * connection back to `server` as a new one, starting with `packet` where the minor version digit
 * at `minorAt` reads 1. Returns false, touching nothing, when the socket is not in the expected
 * shape (a node version with different internals): the request is then refused as before.
 */
function serveAsHttp11(socket: Socket, server: Server, packet: Buffer, minorAt: number): boolean {
  const parser = (socket as { parser?: NodeParser | null }).parser;
  if (parser == null || typeof parser.remove !== 'function') return false;
  const found = SERVER_LISTENERS.map(([event, name]) =>
    socket.listeners(event).find((l) => (l as { name?: string }).name === name),
  );
  if (found[0] === undefined) return false;
  SERVER_LISTENERS.forEach(([event], i) => {
    const l = found[i];
    if (l !== undefined) socket.removeListener(event, l as (...args: unknown[]) => void);
  });
  if (parser._consumed === true) parser.unconsume?.();
  parser._consumed = false;
  parser.remove();
  parser.socket = null;
  (socket as { parser?: unknown }).parser = null;
  // Its native half goes once this error's stack (which runs inside the parser) has unwound.
  if (typeof parser.close === 'function') setImmediate(closeParser, parser);
  const fixed = Buffer.from(packet);
  fixed[minorAt] = 0x31;
  socket.unshift(fixed);
  server.emit('connection', socket);
  return true;
}

function closeParser(parser: NodeParser): void {
  parser.close?.();
}

function noop(): void {}
