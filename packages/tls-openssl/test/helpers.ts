/**
 * Test helpers: the committed test certificates (see fixtures/README.md), a loopback server that
 * runs `acceptTls` on every connection, and a TLS client that reports what it negotiated.
 * Everything listens on 127.0.0.1, port 0, and is closed by `closeAll()`.
 */
import { readFileSync } from 'node:fs';
import * as net from 'node:net';
import { dirname, join } from 'node:path';
import * as tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import type { PingoraError } from '@pingora-ts/error';
import { acceptTls } from '../src/handshake.js';
import type { TlsSettings } from '../src/settings.js';

/** Directory of the test certificates. */
export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

/** Path of a fixture file, e.g. `fixturePath('ca.pem')`. */
export function fixturePath(name: string): string {
  return join(FIXTURES, name);
}

/** Contents of a fixture file. */
export function fixture(name: string): Buffer {
  return readFileSync(fixturePath(name));
}

const closers: Array<() => void | Promise<void>> = [];

/** Closes every server and socket opened by the helpers. */
export async function closeAll(): Promise<void> {
  while (closers.length > 0) await closers.pop()!();
}

/** A running acceptor: connections that completed the handshake, and the errors of those that did not. */
export interface Acceptor {
  port: number;
  secured: tls.TLSSocket[];
  errors: PingoraError[];
}

/**
 * A TCP server running `acceptTls(settings)` on each connection. A secured socket gets
 * `onSecure` (default: answer `hello` and keep the connection open).
 */
export async function startAcceptor(
  settings: TlsSettings,
  onSecure: (s: tls.TLSSocket) => void = (s) => s.write('hello'),
): Promise<Acceptor> {
  const a: Acceptor = { port: 0, secured: [], errors: [] };
  const sockets = new Set<net.Socket>();
  const server = net.createServer((raw) => {
    raw.on('error', () => {});
    sockets.add(raw);
    raw.on('close', () => sockets.delete(raw));
    acceptTls(raw, settings, (err, s) => {
      if (err !== undefined) a.errors.push(err);
      else {
        a.secured.push(s!);
        onSecure(s!);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  a.port = (server.address() as net.AddressInfo).port;
  closers.push(
    () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  );
  return a;
}

/** What a client saw. `error` is set when the handshake (or the first read) failed. */
export interface ClientResult {
  alpn: string | false | null;
  protocol: string | null;
  cert: tls.PeerCertificate | undefined;
  data: string;
  error: (Error & { code?: string }) | undefined;
  socket: tls.TLSSocket;
}

/**
 * Connects with `tls.connect(options)` to 127.0.0.1:`port`, waits for the first data (or an
 * error/close) and reports. Trusts the test CA unless `options.ca` says otherwise.
 */
export function connectClient(port: number, options: tls.ConnectionOptions = {}): Promise<ClientResult> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca: fixture('ca.pem'), ...options });
    closers.push(() => {
      socket.destroy();
    });
    let data = '';
    let error: (Error & { code?: string }) | undefined;
    let settled = false;
    const done = () => {
      if (settled) return;
      settled = true;
      const cert = socket.getPeerCertificate();
      resolve({
        alpn: socket.alpnProtocol,
        protocol: socket.getProtocol(),
        cert: cert !== null && cert.raw !== undefined ? cert : undefined,
        data,
        error,
        socket,
      });
    };
    socket.on('data', (c: Buffer) => {
      data += c.toString();
      done();
    });
    socket.on('error', (e) => {
      error = e;
      done();
    });
    socket.on('close', done);
  });
}
