/** http-proxy 1.18 with a keep-alive agent (its best configuration).   http-proxy.mjs <port> <originPort> */
import http from 'node:http';
import httpProxy from 'http-proxy';

const [port, originPort] = process.argv.slice(2).map(Number);
const agent = new http.Agent({ keepAlive: true, maxSockets: 128 });
const proxy = httpProxy.createProxyServer({ target: `http://127.0.0.1:${originPort}`, agent });
proxy.on('error', (_e, _req, res) => {
  if ('writeHead' in res && !res.headersSent) res.writeHead(502);
  res.end();
});
http.createServer((req, res) => proxy.web(req, res)).listen(port, '127.0.0.1');
