/**
 * Plain servers without a proxy (Pingora's server.rs): a TCP echo service (`ServerApp`, also on a
 * Unix socket, with a connection filter that runs before any byte is read) and an HTTP echo app
 * (`ServeHttp`), one `Server`, one process. Pingora's flags apply: `-c conf.yaml`, `-t`, `-d`.
 *
 *   pnpm --filter @pingora-ts/examples server   # nc 127.0.0.1 6142 ; nc -U /tmp/echo.sock ; curl -d hi 127.0.0.1:6145
 */
import { EchoApp, HttpServer, Opt, Server, Service, serveHttpApp } from '@pingora-ts/core';
import { isMain } from './lib/demo-origins.js';
import { type Running, startServices } from './lib/run.js';

/** Answers every request with its method, path and body. */
export const httpEcho = serveHttpApp({
  async response(session) {
    const chunks: Buffer[] = [];
    for (let c = await session.readRequestBody(); c !== undefined; c = await session.readRequestBody())
      chunks.push(c);
    const h = session.reqHeader();
    return {
      status: 200,
      headers: { 'Content-Type': 'text/plain' },
      body: `${h.method} ${h.uri}\n${Buffer.concat(chunks)}`,
    };
  },
});

export function services(tcpPort: number, httpPort: number, udsPath?: string): Service[] {
  const echo = new Service('Echo Service', new EchoApp());
  echo.addTcpWithSettings(`127.0.0.1:${tcpPort}`, { tcpKeepalive: { idleMs: 60_000 }, noDelay: true });
  if (udsPath !== undefined) echo.addUds(udsPath, 0o666);
  // Runs on accept, before the app reads a byte: a refused client just sees the connection close.
  echo.setConnectionFilter(({ address }) => !address.startsWith('192.0.2.'));
  const http = new Service('HTTP Echo', new HttpServer(httpEcho));
  http.addTcp(`127.0.0.1:${httpPort}`);
  return [echo, http];
}

export async function main(tcpPort = 0, httpPort = 0, udsPath?: string): Promise<Running> {
  return startServices(services(tcpPort, httpPort, udsPath));
}

if (isMain(import.meta.url)) {
  const server = new Server(Opt.parseArgs());
  server.bootstrap();
  server.addServices(services(6142, 6145, '/tmp/echo.sock'));
  console.log('TCP echo on :6142 and /tmp/echo.sock, HTTP echo on :6145');
  await server.runForever();
}
