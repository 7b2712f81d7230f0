/**
 * The compression benchmark's origin: node:http answering every request with the same generated
 * HTML page (`size` bytes, default 24 KB, text/html, with Content-Length), built once from a fixed
 * seed so every run and every target compresses the same bytes (about 6:1 with gzip -6).
 *   origin.mjs <port> [size]
 */
import http from 'node:http';

const [port, size = 24 * 1024] = process.argv.slice(2).map(Number);

// A tiny seeded generator (mulberry32): the page is the same on every run.
let seed = 2024;
const rnd = () => {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = Math.imul(seed ^ (seed >>> 15), seed | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const words =
  'proxy origin cache header body stream request response worker listener upstream peer pool'.split(' ');
const pick = () => words[Math.floor(rnd() * words.length)];

let html = '<!doctype html><html><head><title>Orders</title></head><body><table>\n';
for (let row = 0; html.length < size; row++) {
  const id = Math.floor(rnd() * 1e6);
  html += `<tr class="row-${row % 2}"><td>${id}</td><td>${pick()} ${pick()}</td><td>${(rnd() * 1000).toFixed(2)}</td></tr>\n`;
}
const body = Buffer.from(`${html.slice(0, size - 23)}</table></body></html>`.padEnd(size, ' '));

const server = http.createServer((_req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': String(body.length) });
  res.end(body);
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1');
