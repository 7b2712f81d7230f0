/**
 * The benchmark origin: node:http answering an 11-byte body (peers.md §2.3's setup). It counts
 * accepted TCP connections and reports them on a second port, so the runner can compute each
 * proxy's upstream connection reuse.
 *   origin.mjs <port> <statsPort>
 */
import http from 'node:http';

const [port, statsPort] = process.argv.slice(2).map(Number);
let connections = 0;
const body = Buffer.from('hello world');
const server = http.createServer((_req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': '11' });
  res.end(body);
});
server.keepAliveTimeout = 60_000;
server.on('connection', () => connections++);
server.listen(port, '127.0.0.1');
http.createServer((_req, res) => res.end(JSON.stringify({ connections }))).listen(statsPort, '127.0.0.1');
