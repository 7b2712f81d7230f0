/**
 * Memory held by idle HTTP/1.1 keep-alive connections: a bare node:http server against
 * `HttpServer` on a listening `Service`, each in its own process. A client process opens N
 * connections on loopback, makes one request on each and keeps them open; the server process is
 * measured after forced GCs before and after, and the difference is reported per connection.
 *
 *   cd packages/core
 *   npx tsx --expose-gc --conditions=@pingora-ts/source bench/idle-memory.ts [N] [--snapshot]
 *
 * N defaults to 10 000; each process needs N file descriptors (`ulimit -n`). `--snapshot` writes a
 * heap snapshot of each server once the connections are idle (for a retainers view in DevTools).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import * as net from 'node:net';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import { HttpServer, noopLogger, Service, ShutdownController, serveHttpApp } from '../src/index.js';

type Mode = 'node:http' | 'HttpServer';
interface Usage {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}
type Msg = { port: number } | { usage: Usage } | { ready: number } | { snapshot: string };

const KEEPALIVE_MS = 600_000;
const self = fileURLToPath(import.meta.url);

async function settledUsage(): Promise<Usage> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with --expose-gc');
  for (let i = 0; i < 6; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
  const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage();
  return { rss, heapUsed, external, arrayBuffers };
}

async function server(mode: Mode): Promise<void> {
  let port: number;
  if (mode === 'node:http') {
    const srv = http.createServer(
      { keepAliveTimeout: KEEPALIVE_MS, headersTimeout: 60_000, requestTimeout: 0 },
      (_req, res) => res.end('ok'),
    );
    srv.listen(0, '127.0.0.1', 65535);
    await once(srv, 'listening');
    port = (srv.address() as net.AddressInfo).port;
  } else {
    const app = new HttpServer(serveHttpApp({ response: () => ({ status: 200, body: 'ok' }) }), {
      keepaliveTimeout: KEEPALIVE_MS,
      logger: noopLogger,
    });
    const svc = new Service('idle', app, { logger: noopLogger });
    svc.addTcp('127.0.0.1:0');
    await svc.start(new ShutdownController().watch);
    const a = svc.addresses()[0];
    port = a?.kind === 'tcp' ? a.port : 0;
  }
  process.on('message', async (m: string) => {
    if (m === 'measure') process.send!({ usage: await settledUsage() } satisfies Msg);
    if (m === 'snapshot') process.send!({ snapshot: v8.writeHeapSnapshot() } satisfies Msg);
  });
  process.send!({ port } satisfies Msg);
}

async function client(port: number, n: number): Promise<void> {
  const sockets: net.Socket[] = [];
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const s = net.connect({ port, host: '127.0.0.1' });
      sockets.push(s);
      let got = '';
      s.setEncoding('latin1');
      const onData = (c: string) => {
        got += c;
        if (got.endsWith('\r\n\r\nok')) {
          s.off('data', onData);
          resolve();
        }
      };
      s.on('data', onData);
      s.on('error', reject);
      s.write('GET / HTTP/1.1\r\nHost: bench\r\n\r\n');
    });
  const BATCH = 500;
  for (let i = 0; i < n; i += BATCH) await Promise.all(Array.from({ length: Math.min(BATCH, n - i) }, one));
  process.send!({ ready: sockets.length } satisfies Msg);
  process.on('disconnect', () => process.exit(0));
}

function next(child: ChildProcess): Promise<Msg> {
  return new Promise((resolve, reject) => {
    child.once('message', (m) => resolve(m as Msg));
    child.once('exit', (code) => reject(new Error(`child exited (${code})`)));
  });
}

async function measure(mode: Mode, n: number, snapshot: boolean): Promise<Usage> {
  const srv = fork(self, ['server', mode], { execArgv: process.execArgv });
  try {
    const { port } = (await next(srv)) as { port: number };
    srv.send('measure');
    const before = ((await next(srv)) as { usage: Usage }).usage;
    const cli = fork(self, ['client', String(port), String(n)], { execArgv: process.execArgv });
    try {
      const { ready } = (await next(cli)) as { ready: number };
      if (ready !== n) throw new Error(`only ${ready} connections`);
      srv.send('measure');
      const after = ((await next(srv)) as { usage: Usage }).usage;
      if (snapshot) {
        srv.send('snapshot');
        console.log(`${mode}: heap snapshot ${((await next(srv)) as { snapshot: string }).snapshot}`);
      }
      return {
        rss: after.rss - before.rss,
        heapUsed: after.heapUsed - before.heapUsed,
        external: after.external - before.external,
        arrayBuffers: after.arrayBuffers - before.arrayBuffers,
      };
    } finally {
      cli.kill();
    }
  } finally {
    srv.kill();
  }
}

async function main(): Promise<void> {
  const [role, a, b] = process.argv.slice(2);
  if (role === 'server') return server(a as Mode);
  if (role === 'client') return client(Number(a), Number(b));
  const n = role !== undefined && /^\d+$/.test(role) ? Number(role) : 10_000;
  const snapshot = process.argv.includes('--snapshot');
  console.log(`${n} idle keep-alive connections, node ${process.version}; server-process growth:`);
  console.log('server        heap/conn   rss/conn   external/conn   heap per 10k   rss per 10k');
  for (const mode of ['node:http', 'HttpServer'] as const) {
    const d = await measure(mode, n, snapshot);
    const per = (x: number) => `${(x / n).toFixed(0)} B`.padStart(9);
    const per10k = (x: number) => `${(((x / n) * 10_000) / 2 ** 20).toFixed(1)} MiB`;
    console.log(
      `${mode.padEnd(12)} ${per(d.heapUsed)}  ${per(d.rss)}  ${per(d.external).padStart(14)}   ${per10k(d.heapUsed).padStart(12)}  ${per10k(d.rss).padStart(12)}`,
    );
  }
}

await main();
