/**
 * Built-in demo origins for the examples and the main job: small node:http servers that say who
 * they are, so a client can watch requests move between them.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';

/** A running demo origin. */
export interface DemoOrigin {
  name: string;
  port: number;
  /** Requests served so far. */
  served: number;
  /** Address for `HttpPeer`: `127.0.0.1:<port>`. */
  addr: string;
  server: http.Server;
  close(): Promise<void>;
}

/**
 * Starts an origin answering `hello from <name>` plus request details as JSON under `/echo`.
 * `port` 0 picks a free port.
 */
export async function startDemoOrigin(name: string, port = 0): Promise<DemoOrigin> {
  const origin = { name, port, served: 0, addr: '' } as DemoOrigin;
  origin.server = http.createServer((req, res) => {
    origin.served++;
    if (req.url?.startsWith('/echo')) {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const out = JSON.stringify({
          origin: name,
          method: req.method,
          url: req.url,
          headers: req.headers,
          body,
        });
        res.writeHead(200, { 'Content-Type': 'application/json', 'X-Origin': name });
        res.end(out);
      });
      return;
    }
    req.resume();
    res.writeHead(200, { 'Content-Type': 'text/plain', 'X-Origin': name });
    res.end(`hello from ${name}\n`);
  });
  await new Promise<void>((r) => origin.server.listen(port, '127.0.0.1', r));
  origin.port = (origin.server.address() as AddressInfo).port;
  origin.addr = `127.0.0.1:${origin.port}`;
  origin.close = () =>
    new Promise<void>((r) => {
      origin.server.closeAllConnections();
      origin.server.close(() => r());
    });
  return origin;
}

/** True when this module file is the program being run (not imported by a test). */
export function isMain(metaUrl: string): boolean {
  const entry = process.argv[1];
  return entry !== undefined && metaUrl === pathToFileURL(entry).href;
}
