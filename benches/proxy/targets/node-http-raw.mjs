/**
 * Measuring stick: the node:http server in front of the raw-socket upstream pool of `raw-net.mjs`.
 * Beside `raw-net` it shows what node:http's server side costs.   node-http-raw.mjs <port> <originPort>
 */
import http from 'node:http';
import { rawUpstream } from './lib/raw-upstream.mjs';

const [port, originPort] = process.argv.slice(2).map(Number);
const get = rawUpstream(originPort);
const server = http.createServer((req, res) => {
  get(req.url, `127.0.0.1:${originPort}`, (_head, body) => {
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': body.length });
    res.end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1');
