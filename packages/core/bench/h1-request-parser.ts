/**
 * Throughput of the strict HTTP/1 request parser.
 *
 *   cd packages/core
 *   npx tsx --conditions=@pingora-ts/source bench/h1-request-parser.ts [seconds-per-run]
 *
 * 1. In-process parse loops (no I/O): a typical 10-field GET, a 30-field GET, a 10-field POST with
 *    a 1 KiB body, and — as a yardstick from the same code base — the strict response parser on a
 *    10-field response. llhttp has no supported in-process API (node:http's HTTPParser is internal),
 *    so it is not in this table.
 * 2. Server round trips over loopback, 64 pipelined requests per write, one connection: node:http
 *    (llhttp, IncomingMessage, ServerResponse) against a raw `net` server running this parser and
 *    writing a canned response. This compares whole server stacks, not parsers alone; it is the
 *    comparison that matters for a session built on the parser.
 */
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { H1RequestParser, type RequestParserSink } from '../src/protocols/h1-request-parser.js';
import { H1ResponseParser, type ResponseParserSink } from '../src/protocols/h1-response-parser.js';

const SECONDS = Number(process.argv[2] ?? 2);

const FIELDS_10 = [
  'Host: www.example.com',
  'User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
  'Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
  'Accept-Language: en-US,en;q=0.5',
  'Accept-Encoding: gzip, deflate, br',
  'Connection: keep-alive',
  'Cookie: session=8f1c2a7b9d; theme=dark',
  'Upgrade-Insecure-Requests: 1',
  'Sec-Fetch-Dest: document',
  'Cache-Control: max-age=0',
];
const FIELDS_30 = [
  ...FIELDS_10,
  ...Array.from({ length: 20 }, (_, i) => `X-Custom-Header-${i}: value-${i}-${'v'.repeat(i % 7)}`),
];

function request(fields: string[], body = ''): Buffer {
  const method = body.length > 0 ? 'POST' : 'GET';
  const len = body.length > 0 ? `Content-Length: ${body.length}\r\n` : '';
  return Buffer.from(
    `${method} /path/to/resource?query=1&b=2 HTTP/1.1\r\n${fields.join('\r\n')}\r\n${len}\r\n${body}`,
  );
}

let sunk = 0;
const requestSink: RequestParserSink = {
  onHead: (h) => {
    sunk += h.rawHeaders.length;
    return false;
  },
  onBody: (c) => {
    sunk += c.length;
  },
  onTrailers: () => {},
  onComplete: () => {
    sunk++;
  },
};

// Operations per second of `op`, timed over SECONDS after a warm-up.
function perSecond(op: () => void): number {
  for (let i = 0; i < 20_000; i++) op();
  let n = 0;
  const start = performance.now();
  const end = start + SECONDS * 1000;
  while (performance.now() < end) {
    for (let i = 0; i < 1000; i++) op();
    n += 1000;
  }
  return n / ((performance.now() - start) / 1000);
}

function parseLoop(buf: Buffer): number {
  const p = new H1RequestParser(requestSink);
  return perSecond(() => p.execute(buf));
}

function responseLoop(): number {
  const buf = Buffer.from(
    `HTTP/1.1 200 OK\r\n${FIELDS_10.slice(1).join('\r\n')}\r\nContent-Length: 2\r\n\r\nok`,
  );
  const sink: ResponseParserSink = {
    onInformational: () => {},
    onHead: (h) => {
      sunk += h.rawHeaders.length;
    },
    onBody: () => {},
    onTrailers: () => {},
    onComplete: () => {},
  };
  const p = new H1ResponseParser(sink);
  return perSecond(() => {
    p.reset(false);
    p.execute(buf);
  });
}

const RESPONSE = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
const PIPELINE = 64;

// Requests per second a server answers on one connection, the client keeping PIPELINE in flight.
async function roundTrips(
  listen: (port0: (port: number) => void) => net.Server | http.Server,
): Promise<number> {
  const server = await new Promise<{ s: net.Server | http.Server; port: number }>((resolve) => {
    const s = listen((port) => resolve({ s, port }));
  });
  const batch = Buffer.concat(Array.from({ length: PIPELINE }, () => request(FIELDS_10)));
  const c = net.connect(server.port, '127.0.0.1');
  c.setNoDelay(true);
  let answered = 0;
  let seen = 0;
  const needle = Buffer.from('\r\n\r\nok');
  const start = performance.now();
  const end = start + SECONDS * 1000;
  await new Promise<void>((resolve) => {
    c.on('data', (d: Buffer) => {
      for (let at = d.indexOf(needle); at >= 0; at = d.indexOf(needle, at + 1)) answered++;
      if (answered - seen >= PIPELINE) {
        seen += PIPELINE;
        if (performance.now() < end) c.write(batch);
        else resolve();
      }
    });
    c.write(batch);
  });
  const rate = answered / ((performance.now() - start) / 1000);
  c.destroy();
  (server.s as net.Server).close();
  return rate;
}

function nodeHttpServer(ready: (port: number) => void): http.Server {
  const s = http.createServer({ keepAliveTimeout: 60_000 }, (_req, res) => {
    res.writeHead(200, ['Content-Length', '2']);
    res.end('ok');
  });
  s.listen(0, '127.0.0.1', () => ready((s.address() as AddressInfo).port));
  return s;
}

function parserServer(ready: (port: number) => void): net.Server {
  const s = net.createServer((socket) => {
    socket.setNoDelay(true);
    const p = new H1RequestParser({
      onHead: () => false,
      onBody: () => {},
      onTrailers: () => {},
      onComplete: () => {
        socket.write(RESPONSE);
      },
    });
    socket.on('data', (d: Buffer) => {
      let off = 0;
      while (off < d.length) off = p.execute(d, off);
    });
    socket.on('error', () => {});
  });
  s.listen(0, '127.0.0.1', () => ready((s.address() as AddressInfo).port));
  return s;
}

const fmt = (n: number) => `${Math.round(n).toLocaleString('en-US')}/s`;
const rows: Array<[string, string]> = [];
rows.push(['request, 10 fields (GET)', fmt(parseLoop(request(FIELDS_10)))]);
rows.push(['request, 30 fields (GET)', fmt(parseLoop(request(FIELDS_30)))]);
rows.push(['request, 10 fields + 1 KiB body (POST)', fmt(parseLoop(request(FIELDS_10, 'x'.repeat(1024))))]);
rows.push(['response parser, 10 fields (yardstick)', fmt(responseLoop())]);
rows.push(['node:http server, pipelined 10-field GETs', fmt(await roundTrips(nodeHttpServer))]);
rows.push(['net + H1RequestParser server, same', fmt(await roundTrips(parserServer))]);
console.log(`node ${process.version}, ${SECONDS} s per row (sink checksum ${sunk % 997})`);
for (const [name, value] of rows) console.log(`${name.padEnd(44)} ${value}`);
