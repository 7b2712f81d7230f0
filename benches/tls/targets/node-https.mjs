/**
 * Node's own https.Server answering the 11-byte body itself (no proxy, no upstream hop): the
 * ceiling for TLS termination in one Node process, to tell Node's cost from pingora-ts's.
 *   node-https.mjs <port> <cert> <key>
 */
import { readFileSync } from 'node:fs';
import https from 'node:https';

const [port, cert, key] = process.argv.slice(2);
const body = Buffer.from('hello world');
const server = https.createServer(
  { cert: readFileSync(cert), key: readFileSync(key), minVersion: 'TLSv1.2', keepAliveTimeout: 60_000 },
  (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': '11' });
    res.end(body);
  },
);
server.listen(Number(port), '127.0.0.1');
