/**
 * Test fixtures: origins that can be stopped and restarted on the same port, a proxy service on
 * port 0, a logger that records lines, and a tiny DNS server. Everything listens on 127.0.0.1
 * and is closed by `closeAll()` after each test.
 */
import dgram from 'node:dgram';
import http from 'node:http';
import type net from 'node:net';
import { HttpServer, Service, ShutdownController } from '@pingora-ts/core';
import { HttpProxy, type HttpProxyOptions, type ProxyHttp } from '@pingora-ts/proxy';
import { type CapturedLog, memoryLogger, onClose, startService } from '@pingora-ts/test-utils';

export {
  type CapturedLog,
  closeAll,
  deadPort,
  memoryLogger,
  onClose,
  waitFor,
} from '@pingora-ts/test-utils';

/** An origin that says its name; `stop()` makes it refuse connections, `start()` brings it back. */
export interface Origin {
  name: string;
  port: number;
  addr: string;
  /** Requests served. */
  served: number;
  /** Status for every response (e.g. 500 to fail an HTTP health check). */
  status: number;
  /** Request lines seen, `METHOD url host`. */
  seen: string[];
  /** TCP connections accepted. */
  connections: number;
  running: boolean;
  /**
   * `hard` (default): refuse connections and reset every open one. `graceful`: refuse new
   * connections, close idle ones, finish in-flight responses with `Connection: close`.
   */
  stop(mode?: 'hard' | 'graceful'): Promise<void>;
  start(): Promise<void>;
}

export async function startOrigin(name: string): Promise<Origin> {
  let server: http.Server | undefined;
  const origin: Origin = {
    name,
    port: 0,
    addr: '',
    served: 0,
    status: 200,
    seen: [],
    connections: 0,
    running: false,
    async start() {
      if (origin.running) return;
      const s = http.createServer((req, res) => {
        origin.served++;
        if (origin.seen.length < 10_000) origin.seen.push(`${req.method} ${req.url} ${req.headers.host}`);
        req.resume();
        if (!origin.running) res.setHeader('Connection', 'close');
        res.writeHead(origin.status, { 'Content-Type': 'text/plain', 'X-Origin': name });
        res.end(name);
      });
      s.on('connection', () => origin.connections++);
      await new Promise<void>((r) => s.listen(origin.port, '127.0.0.1', r));
      origin.port = (s.address() as net.AddressInfo).port;
      origin.addr = `127.0.0.1:${origin.port}`;
      server = s;
      origin.running = true;
    },
    async stop(mode = 'hard') {
      const s = server;
      if (s === undefined || !origin.running) return;
      origin.running = false;
      server = undefined;
      await new Promise<void>((r) => {
        s.close(() => r());
        if (mode === 'hard') s.closeAllConnections();
        else s.closeIdleConnections();
      });
    },
  };
  await origin.start();
  onClose(() => origin.stop());
  return origin;
}

/** A proxy service on 127.0.0.1:0 running `inner`. */
export async function startProxy<Ctx>(
  inner: ProxyHttp<Ctx>,
  options: HttpProxyOptions = {},
): Promise<{ port: number; logs: CapturedLog[]; url(path?: string): string }> {
  const logger = memoryLogger();
  const proxy = new HttpProxy(inner, { logger, ...options });
  const service = new Service('test proxy', new HttpServer(proxy), { logger });
  service.addTcp('127.0.0.1:0');
  const port = await startService(service, new ShutdownController());
  return { port, logs: logger.lines, url: (path = '/') => `http://127.0.0.1:${port}${path}` };
}

/** One GET; resolves with status and body. */
export function get(
  url: string,
  agent: http.Agent | false = false,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

/** Runs `count` jobs with at most `concurrency` at a time; resolves when all are done. */
export async function runBounded(
  count: number,
  concurrency: number,
  job: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await job(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

/** Answers of {@link startDnsServer}: name → records. */
export type DnsZone = Map<string, Array<{ type: 'A' | 'AAAA'; address: string; ttl: number }>>;

function encodeName(name: string): Buffer {
  const parts = name.split('.').filter((p) => p.length > 0);
  return Buffer.concat([
    ...parts.map((p) => Buffer.concat([Buffer.from([p.length]), Buffer.from(p)])),
    Buffer.from([0]),
  ]);
}

function ipBytes(type: 'A' | 'AAAA', address: string): Buffer {
  if (type === 'A') return Buffer.from(address.split('.').map(Number));
  const [head = '', tail = ''] = address.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === '' ? [] : tail.split(':');
  const groups = address.includes('::') ? [...h, ...new Array(8 - h.length - t.length).fill('0'), ...t] : h;
  const b = Buffer.alloc(16);
  for (const [i, g] of groups.entries()) b.writeUInt16BE(Number.parseInt(g, 16), i * 2);
  return b;
}

/**
 * A minimal authoritative DNS server over UDP on 127.0.0.1 answering A/AAAA queries from `zone`
 * (which the test may change between queries). Names not in the zone get NXDOMAIN; a known name
 * without records of the asked type gets an empty answer (NODATA).
 */
export async function startDnsServer(zone: DnsZone): Promise<{ server: string; queries: string[] }> {
  const sock = dgram.createSocket('udp4');
  const queries: string[] = [];
  sock.on('message', (msg, rinfo) => {
    const id = msg.readUInt16BE(0);
    let off = 12;
    const labels: string[] = [];
    while (msg[off]! !== 0) {
      const len = msg[off]!;
      labels.push(msg.subarray(off + 1, off + 1 + len).toString());
      off += len + 1;
    }
    const qtype = msg.readUInt16BE(off + 1);
    const question = msg.subarray(12, off + 5);
    const name = labels.join('.').toLowerCase();
    const type = qtype === 1 ? 'A' : qtype === 28 ? 'AAAA' : undefined;
    queries.push(`${type ?? qtype} ${name}`);
    const records = zone.get(name);
    const answers = (records ?? []).filter((r) => r.type === type);
    const header = Buffer.alloc(12);
    header.writeUInt16BE(id, 0);
    header.writeUInt16BE(0x8400 | (records === undefined ? 3 : 0), 2); // QR, AA, rcode
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length, 6);
    const rrs = answers.map((a) => {
      const data = ipBytes(a.type, a.address);
      const fixed = Buffer.alloc(10);
      fixed.writeUInt16BE(a.type === 'A' ? 1 : 28, 0);
      fixed.writeUInt16BE(1, 2);
      fixed.writeUInt32BE(a.ttl, 4);
      fixed.writeUInt16BE(data.length, 8);
      return Buffer.concat([encodeName(name), fixed, data]);
    });
    sock.send(Buffer.concat([header, question, ...rrs]), rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  onClose(() => new Promise<void>((r) => sock.close(() => r())));
  return { server: `127.0.0.1:${sock.address().port}`, queries };
}
