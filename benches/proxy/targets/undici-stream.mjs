/** The bare minimum: node:http + undici Pool.stream, hop-by-hop filtered.   undici-stream.mjs <port> <originPort> */
import http from 'node:http';
import { Pool } from 'undici';

const [port, originPort] = process.argv.slice(2).map(Number);
const pool = new Pool(`http://127.0.0.1:${originPort}`, { connections: 128 });
const HOP = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'proxy-connection',
]);
http
  .createServer((req, res) => {
    const headers = [];
    const raw = req.rawHeaders;
    for (let i = 0; i < raw.length; i += 2)
      if (!HOP.has(raw[i].toLowerCase())) headers.push(raw[i], raw[i + 1]);
    pool
      .stream(
        {
          path: req.url,
          method: req.method,
          headers,
          body: req.method === 'GET' || req.method === 'HEAD' ? null : req,
        },
        ({ statusCode, headers: h }) => {
          const out = {};
          for (const [k, v] of Object.entries(h)) if (!HOP.has(k) && v !== undefined) out[k] = v;
          res.writeHead(statusCode, out);
          return res;
        },
      )
      .catch(() => {
        if (!res.headersSent) res.writeHead(502);
        res.end();
      });
  })
  .listen(port, '127.0.0.1');
