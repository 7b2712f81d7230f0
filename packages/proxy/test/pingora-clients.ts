/**
 * Clients of the Pingora port tests: one HTTP/2 request (h2c or TLS) with everything it got back,
 * and the raw-socket readers Pingora's upgrade tests use (a response head, then exact body bytes).
 */
import http2 from 'node:http2';
import net from 'node:net';
import { onClose } from '@pingora-ts/test-utils';
import { pki } from './pingora-origin.js';

/** What {@link h2request} resolves with. `rstCode` is the stream's reset code (0 = ended cleanly). */
export interface H2Result {
  status: number;
  headers: http2.IncomingHttpHeaders;
  body: string;
  rstCode: number;
}

/**
 * One request over a new HTTP/2 connection: h2c for `http://`, TLS for `https://` (the proxy's
 * `localhost` certificate, verified against the test CA). Resolves once the stream closes.
 */
export function h2request(
  url: string,
  headers: http2.OutgoingHttpHeaders = {},
  body?: string,
): Promise<H2Result> {
  const u = new URL(url);
  const client = http2.connect(
    u.origin,
    u.protocol === 'https:' ? { ca: pki('ca.pem'), servername: 'localhost' } : {},
  );
  client.on('error', () => {});
  onClose(() => client.destroy());
  return new Promise((resolve, reject) => {
    const stream = client.request(
      // CONNECT carries only :authority (RFC 9113 §8.5).
      headers[':method'] === 'CONNECT' ? headers : { ':path': u.pathname + u.search, ...headers },
      { endStream: body === undefined },
    );
    let status = 0;
    let got: http2.IncomingHttpHeaders = {};
    let text = '';
    stream.on('response', (h) => {
      got = h;
      status = Number(h[':status']);
    });
    stream.on('data', (c: Buffer) => (text += c.toString()));
    stream.on('error', () => {});
    stream.on('close', () => {
      client.close();
      if (status === 0 && stream.rstCode === 0) reject(new Error('stream closed without a response'));
      else resolve({ status, headers: got, body: text, rstCode: stream.rstCode ?? 0 });
    });
    if (body !== undefined) stream.end(body);
  });
}

/** A raw TCP client that collects what it receives. */
export function rawClient(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  onClose(() => socket.destroy());
  let received = Buffer.alloc(0);
  const waiters: Array<() => void> = [];
  socket.on('data', (c: Buffer) => {
    received = Buffer.concat([received, c]);
    for (const w of waiters.splice(0)) w();
  });
  socket.on('close', () => {
    for (const w of waiters.splice(0)) w();
  });
  const until = (done: () => boolean): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = () => {
        if (done()) resolve();
        else if (socket.destroyed) reject(new Error(`closed after ${JSON.stringify(received.toString())}`));
        else waiters.push(check);
      };
      check();
    });
  return {
    socket,
    get received(): Buffer {
      return received;
    },
    /**
     * Resolves with the first response head whose status is not 1xx at or after `from` (status,
     * fields by lower-case name) and where its body starts.
     */
    async head(from = 0): Promise<{ status: number; fields: Map<string, string>; bodyStart: number }> {
      let at = from;
      for (;;) {
        await until(() => received.indexOf('\r\n\r\n', at) >= 0);
        const end = received.indexOf('\r\n\r\n', at);
        const lines = received.subarray(at, end).toString('latin1').split('\r\n');
        const status = Number(lines[0]!.split(' ')[1]);
        at = end + 4;
        if (status >= 200 || status === 101) {
          const fields = new Map<string, string>();
          for (const l of lines.slice(1)) {
            const i = l.indexOf(':');
            fields.set(l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim());
          }
          return { status, fields, bodyStart: at };
        }
      }
    },
    /** Resolves once `n` bytes arrived after `from`. */
    bytes(from: number, n: number): Promise<Buffer> {
      return until(() => received.length >= from + n).then(() => received.subarray(from));
    },
    /** Resolves when the socket has closed. */
    closed(): Promise<void> {
      return until(() => socket.destroyed);
    },
  };
}
