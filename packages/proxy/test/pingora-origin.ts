/**
 * The origin of the Pingora port tests: node servers with the locations Pingora's proxy
 * integration tests ask their OpenResty origin for, so the ported cases send the same requests.
 * One handler serves every listener: HTTP/1.1 (plain, and on a Unix socket), h2c, and TLS with h2
 * and http/1.1 (the `openrusty.org` certificate under the shared test CA). A second TLS listener
 * asks for a client certificate and, like nginx's `ssl_verify_client on`, answers 400 to a client
 * without a valid one rather than failing the handshake. A separate HTTP/1.1 listener plays the
 * load balancer that drops reused connections (`/bad_lb`).
 *
 * Locations: `/` (`Hello World!\n`), `/echo` (the request body), `/no_compression` (32 × `B`),
 * `/file_maker` (`x-set-size` × `A`, default 1024), `/tls_verify` (empty 200, connection closed),
 * `/sleep` (`x-abort` drops the connection before answering), `/download/` (4 MiB, or `x-download-size` bytes), `/103` and
 * `/103-die` (Early Hints, then an answer or nothing), `/upgrade` (101 with a body).
 */
import { readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { onClose } from '@pingora-ts/test-utils';

const HERE = dirname(fileURLToPath(import.meta.url));
/** The shared test PKI (packages/tls-openssl/test/fixtures). */
export const PKI = join(HERE, '../../tls-openssl/test/fixtures');
export const pki = (name: string): Buffer => readFileSync(join(PKI, name));
const openrusty = (ext: string) => readFileSync(join(HERE, 'fixtures/openrusty', `openrusty.${ext}`));

/** The listeners of a running {@link startPingoraOrigin}. */
export interface PingoraOrigin {
  /** HTTP/1.1 (Pingora's 8000). */
  port: number;
  /** h2c with prior knowledge (Pingora's 8000 with `http2`). */
  h2cPort: number;
  /** TLS, h2 and http/1.1 (Pingora's 8443). */
  tlsPort: number;
  /** TLS that wants a client certificate under the test CA (Pingora's 8444). */
  mtlsPort: number;
  /** HTTP/1.1 that drops every connection's second request to `/bad_lb` (Pingora's 8001). */
  badLbPort: number;
  /** HTTP/1.1 on a Unix socket. */
  udsPath: string;
}

// Requests seen per connection (nginx's $connection_requests), for `/bad_lb`.
const served = new WeakMap<object, number>();

function body(req: http.IncomingMessage | http2.Http2ServerRequest): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

type Req = http.IncomingMessage | http2.Http2ServerRequest;
type Res = http.ServerResponse | http2.Http2ServerResponse;

function reply(res: Res, status: number, text: string | Buffer, headers: Record<string, string> = {}): void {
  const b = Buffer.from(text);
  // nginx's default_type: text/plain.
  res.writeHead(status, { 'Content-Type': 'text/plain', 'Content-Length': String(b.length), ...headers });
  res.end(b);
}

const MB = 1 << 20;

/** The locations shared by every listener. */
function handle(req: Req, res: Res): void {
  const path = (req.url ?? '/').split('?')[0]!;
  const h1 = req.httpVersionMajor === 1;
  const socket = req.socket as net.Socket;
  served.set(socket, (served.get(socket) ?? 0) + 1);
  // nginx's `add_header Origin-Http2 $http2`: which HTTP/2 the request came over, if any.
  if (!h1) res.setHeader('origin-http2', (socket as tls.TLSSocket).encrypted ? 'h2' : 'h2c');
  if (path === '/echo') {
    void body(req).then((b) => reply(res, 200, b));
  } else if (path === '/tls_verify') {
    // keepalive_timeout 0: one request per connection.
    if (h1) (res as http.ServerResponse).shouldKeepAlive = false;
    reply(res, 200, '');
  } else if (path.startsWith('/sleep')) {
    if (req.headers['x-abort'] !== undefined) socket.destroy();
    else reply(res, 200, 'hello world');
  } else if (path === '/103' || path === '/103-die') {
    (res as http.ServerResponse).writeEarlyHints({ link: '</style.css>; rel=preload' });
    if (path === '/103') reply(res, 200, '123456');
    else socket.end(); // nginx's 444: the connection goes, no final answer
  } else if (path === '/no_compression') {
    reply(res, 200, 'B'.repeat(32));
  } else if (path === '/file_maker') {
    reply(res, 200, 'A'.repeat(Number(req.headers['x-set-size'] ?? 1024)));
  } else if (path.startsWith('/download/')) {
    reply(res, 200, Buffer.alloc(Number(req.headers['x-download-size'] ?? 4 * MB), 'A'));
  } else {
    req.resume();
    reply(res, 200, 'Hello World!\n');
  }
}

/** The other locations, and `/bad_lb`: only as a connection's first request (else it is dropped). */
function badLb(req: http.IncomingMessage, res: http.ServerResponse): void {
  if (req.url !== '/bad_lb') {
    handle(req, res);
    return;
  }
  const n = (served.get(req.socket) ?? 0) + 1;
  served.set(req.socket, n);
  if (n > 1) {
    req.socket.destroy();
    return;
  }
  void body(req).then((b) => reply(res, 200, b.length > 0 ? `${b}\n` : 'dog!\n'));
}

/** `/upgrade`: a 101 with a body, as the OpenResty location sends it (`Connection: upgrade`). */
function upgrade(req: http.IncomingMessage, socket: net.Socket): void {
  socket.on('error', () => {});
  if (req.url !== '/upgrade') {
    socket.destroy();
    return;
  }
  socket.write(
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\nhello\n',
  );
}

async function listen(server: net.Server, path?: string): Promise<number> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('tlsClientError', () => {});
  await new Promise<void>((r) =>
    path === undefined ? server.listen(0, '127.0.0.1', r) : server.listen(path, r),
  );
  onClose(
    () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  );
  return path === undefined ? (server.address() as net.AddressInfo).port : 0;
}

/**
 * Starts every listener on 127.0.0.1:0 (and a Unix socket in the temp directory); all close on
 * `closeAll()`.
 */
export async function startPingoraOrigin(): Promise<PingoraOrigin> {
  const h1 = http.createServer(handle);
  h1.on('upgrade', upgrade);
  const uds = http.createServer(handle);
  const udsPath = join(tmpdir(), `pingora-ts-origin-${process.pid}-${Date.now()}.sock`);
  rmSync(udsPath, { force: true });
  const secure = { cert: openrusty('pem'), key: openrusty('key'), allowHTTP1: true };
  const tlsServer = http2.createSecureServer(secure, handle);
  const mtls = http2.createSecureServer(
    { ...secure, ca: pki('ca.pem'), requestCert: true, rejectUnauthorized: false },
    (req, res) => {
      // nginx with `ssl_verify_client on` answers 400 when the client certificate is missing or
      // does not verify.
      if ((req.socket as tls.TLSSocket).authorized) reply(res, 200, 'hello world');
      else reply(res, 400, 'No required SSL certificate was sent');
    },
  );
  await listen(uds, udsPath);
  return {
    port: await listen(h1),
    h2cPort: await listen(http2.createServer(handle)),
    tlsPort: await listen(tlsServer),
    mtlsPort: await listen(mtls),
    badLbPort: await listen(http.createServer(badLb)),
    udsPath,
  };
}
