/**
 * Real-socket origins on 127.0.0.1:0 for proxy and client tests: an HTTP server with a handler,
 * and a raw TCP server for framing tests. Both close (with their open connections) on
 * {@link closeAll}.
 */
import http from 'node:http';
import net from 'node:net';
import { onClose } from './closers.js';

/** An HTTP origin started by {@link startOrigin}. */
export interface TestOrigin {
  port: number;
  /** `127.0.0.1:<port>`. */
  addr: string;
  server: http.Server;
  /** TCP connections accepted so far. */
  connections: number;
}

/** An HTTP/1.1 origin on 127.0.0.1:0 answering with `handler`. */
export async function startOrigin(
  handler: http.RequestListener,
  opts: http.ServerOptions = {},
): Promise<TestOrigin> {
  const server = http.createServer(opts, handler);
  const origin: TestOrigin = { port: 0, addr: '', server, connections: 0 };
  server.on('connection', () => origin.connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin.port = (server.address() as net.AddressInfo).port;
  origin.addr = `127.0.0.1:${origin.port}`;
  onClose(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return origin;
}

/** A raw TCP origin on 127.0.0.1:0: `onConnection` gets each socket (errors are swallowed). */
export async function startRawOrigin(
  onConnection: (s: net.Socket) => void,
): Promise<{ port: number; addr: string }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    onConnection(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  onClose(
    () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  );
  return { port, addr: `127.0.0.1:${port}` };
}

/** What {@link answerWhoCalled} reports: the caller's address and TLS client certificate name. */
export interface CallerSeen {
  remoteAddress: string | undefined;
  /** The client certificate's CN over mTLS; null without one. */
  clientCN: string | null;
}

/**
 * A request handler (for `http` or `https` servers) that answers with a JSON {@link CallerSeen},
 * for tests of the source address and client certificate an upstream connection presents.
 */
export function answerWhoCalled(req: http.IncomingMessage, res: http.ServerResponse): void {
  const s = req.socket as net.Socket & { getPeerCertificate?: () => { subject?: { CN?: unknown } } };
  const cert = typeof s.getPeerCertificate === 'function' ? s.getPeerCertificate() : undefined;
  const seen: CallerSeen = {
    remoteAddress: s.remoteAddress,
    clientCN: (cert?.subject?.CN as string) ?? null,
  };
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify(seen));
}
