/**
 * Malformed requests: node's strict parser (llhttp) rejects them before any app code runs. Each
 * gets the right status and one log line, and only that connection is closed — never the process.
 * This is where request-smuggling attempts end (CL + TE, duplicate or bad Content-Length,
 * obfuscated Transfer-Encoding, bare CR/LF, invalid header bytes).
 */
import type { Socket } from 'node:net';
import type { Logger } from '../logger.js';

function statusFor(code: string | undefined): [number, string] {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return [431, 'Request Header Fields Too Large'];
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return [408, 'Request Timeout'];
    default:
      return [400, 'Bad Request'];
  }
}

/** Answers a request node could not parse, logs why, and closes the connection. */
export function handleClientError(err: NodeJS.ErrnoException, socket: Socket, logger: Logger): void {
  socket.on('error', noop);
  const code = err.code;
  // A reset or a response already on the wire leaves nothing to answer. A request whose body
  // turned out malformed after its head was accepted still gets its 400 if nothing was sent yet.
  const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent === true) {
    logger.warn(
      { code, client: socket.remoteAddress },
      `dropped connection with malformed request data: ${err.message}`,
    );
    socket.destroy();
    return;
  }
  const [status, reason] = statusFor(code);
  logger.warn(
    { code, reason: (err as { reason?: string }).reason, client: socket.remoteAddress, status },
    `rejected malformed request: ${err.message}`,
  );
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
  // The app may still hold this request; closing the socket ends it as a client that went away.
  socket.destroySoon();
}

function noop(): void {}
