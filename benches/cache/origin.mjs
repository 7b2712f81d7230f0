/**
 * The cache benchmark's origin: node:http answering with cacheable bodies
 * (`Cache-Control: public, max-age=3600`, with Content-Length), and counting every request it
 * gets so the runner can tell hits (the origin saw nothing) from misses.
 *   /hit/<any>            1 KB, at once
 *   /slow/<any>           1 KB, after <delayMs> (a stampede's key: every waiter overlaps)
 *   /obj/<bytes>/<any>    <bytes> bytes, at once
 * The stats port answers `GET /?path=<path>` with `{"total": n, "path": m}`: requests so far, and
 * requests for that one path.
 *   origin.mjs <port> <statsPort> <delayMs>
 */
import http from 'node:http';

const [port, statsPort, delayMs] = process.argv.slice(2).map(Number);
let total = 0;
const perPath = new Map();

// One body per size, built once: every target caches the same bytes.
const bodies = new Map();
function body(size) {
  let b = bodies.get(size);
  if (b === undefined) {
    b = Buffer.alloc(size);
    for (let i = 0; i < size; i++) b[i] = 97 + (i % 26);
    bodies.set(size, b);
  }
  return b;
}

function send(res, size) {
  res.writeHead(200, {
    'Content-Type': 'application/octet-stream',
    'Content-Length': String(size),
    'Cache-Control': 'public, max-age=3600',
  });
  res.end(body(size));
}

const server = http.createServer((req, res) => {
  total++;
  const path = req.url ?? '/';
  perPath.set(path, (perPath.get(path) ?? 0) + 1);
  if (path.startsWith('/slow/')) {
    setTimeout(() => send(res, 1024), delayMs);
    return;
  }
  const obj = /^\/obj\/(\d+)\//.exec(path);
  send(res, obj ? Number(obj[1]) : 1024);
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1');

http
  .createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://stats').searchParams.get('path') ?? '';
    res.end(JSON.stringify({ total, path: perPath.get(path) ?? 0 }));
  })
  .listen(statsPort, '127.0.0.1');
