/**
 * The HTTP/2 benchmark origin: node:http2's core stream API answering the same 11-byte body as the
 * HTTP/1 origin. Plaintext (h2c with prior knowledge) or TLS with ALPN h2.
 *   origin-h2.mjs <port> [certDir]
 */
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';

const [portArg, certDir] = process.argv.slice(2);
const body = Buffer.from('hello world');
const headers = { ':status': 200, 'content-type': 'text/plain', 'content-length': '11' };
const settings = { maxConcurrentStreams: 1000 };
const server = certDir
  ? http2.createSecureServer({
      cert: readFileSync(`${certDir}/origin.test.pem`),
      key: readFileSync(`${certDir}/origin.test.key`),
      settings,
    })
  : http2.createServer({ settings });
server.on('stream', (stream) => {
  stream.on('error', () => {});
  stream.respond(headers);
  stream.end(body);
});
server.on('session', (s) => s.on('error', () => {}));
server.listen(Number(portArg), '127.0.0.1');
