/**
 * Memory per idle HTTP/1.1 keep-alive connection, by HTTP/1.x engine: `HttpServer` with
 * `h1Engine: 'pingora'` (the raw-socket session) and `'node'` (node:http), beside a bare `net`
 * server that answers one canned response and holds the socket (the floor: what the socket itself
 * costs in this process). Each server runs in its own process; a client process opens N
 * connections on loopback, makes one request on each and keeps them open. The server is measured
 * after forced GCs before and after, and the growth is reported per connection.
 *
 *   cd packages/core
 *   npx tsx --expose-gc --conditions=@pingora-ts/source bench/h1-raw-idle-memory.ts [N] [--snapshot]
 *
 * N defaults to 2 000; each process needs N file descriptors. `--snapshot` writes a heap snapshot
 * of each server once its connections are idle (for a retainers view in DevTools).
 */
import { type ChildProcess, fork } from 'node:child_process';
import * as net from 'node:net';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import { HttpServer, noopLogger, Service, ShutdownController, serveHttpApp } from '../src/index.js';

const MODES = ['net (floor)', 'pingora', 'node'] as const;
type Mode = (typeof MODES)[number];
interface Usage {
  rss: number;
  heapUsed: number;
  external: number;
}
type Msg = { port: number } | { usage: Usage } | { ready: number } | { snapshot: string };

const KEEPALIVE_MS = 600_000;
const CANNED = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok';
const script = fileURLToPath(import.meta.url);

async function usageAfterGc(): Promise<Usage> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with --expose-gc');
  for (let i = 0; i < 6; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
  const { rss, heapUsed, external } = process.memoryUsage();
  return { rss, heapUsed, external };
}

async function serve(mode: Mode): Promise<void> {
  let port = 0;
  if (mode === 'net (floor)') {
    const held: net.Socket[] = [];
    const srv = net.createServer((s) => {
      held.push(s);
      s.once('data', () => s.write(CANNED));
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', 65535, r));
    port = (srv.address() as net.AddressInfo).port;
  } else {
    // The engine is this run's choice, not the environment's.
    delete process.env.PINGORA_TS_H1_ENGINE;
    const app = new HttpServer(serveHttpApp({ response: () => ({ status: 200, body: 'ok' }) }), {
      keepaliveTimeout: KEEPALIVE_MS,
      logger: noopLogger,
      h1Engine: mode,
    });
    const svc = new Service('idle', app, { logger: noopLogger });
    svc.addTcp('127.0.0.1:0');
    await svc.start(new ShutdownController().watch);
    const a = svc.addresses()[0];
    if (a?.kind === 'tcp') port = a.port;
  }
  process.on('message', async (m: string) => {
    if (m === 'measure') process.send!({ usage: await usageAfterGc() } satisfies Msg);
    if (m === 'snapshot') process.send!({ snapshot: v8.writeHeapSnapshot() } satisfies Msg);
  });
  process.send!({ port } satisfies Msg);
}

async function connectAll(port: number, n: number): Promise<void> {
  const open: net.Socket[] = [];
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const s = net.connect({ port, host: '127.0.0.1' });
      open.push(s);
      let got = '';
      s.setEncoding('latin1');
      const onData = (c: string) => {
        got += c;
        if (!got.endsWith('\r\n\r\nok')) return;
        s.off('data', onData);
        resolve();
      };
      s.on('data', onData);
      s.on('error', reject);
      s.write('GET / HTTP/1.1\r\nHost: bench\r\n\r\n');
    });
  for (let i = 0; i < n; i += 250) await Promise.all(Array.from({ length: Math.min(250, n - i) }, one));
  process.send!({ ready: open.length } satisfies Msg);
  process.on('disconnect', () => process.exit(0));
}

function reply(child: ChildProcess): Promise<Msg> {
  return new Promise((resolve, reject) => {
    child.once('message', (m) => resolve(m as Msg));
    child.once('exit', (code) => reject(new Error(`child exited (${code})`)));
  });
}

async function growth(mode: Mode, n: number, snapshot: boolean): Promise<Usage> {
  const srv = fork(script, ['server', mode], { execArgv: process.execArgv });
  try {
    const { port } = (await reply(srv)) as { port: number };
    srv.send('measure');
    const before = ((await reply(srv)) as { usage: Usage }).usage;
    const cli = fork(script, ['client', String(port), String(n)], { execArgv: process.execArgv });
    try {
      const { ready } = (await reply(cli)) as { ready: number };
      if (ready !== n) throw new Error(`only ${ready} connections`);
      srv.send('measure');
      const after = ((await reply(srv)) as { usage: Usage }).usage;
      if (snapshot) {
        srv.send('snapshot');
        console.log(`${mode}: heap snapshot ${((await reply(srv)) as { snapshot: string }).snapshot}`);
      }
      return {
        rss: after.rss - before.rss,
        heapUsed: after.heapUsed - before.heapUsed,
        external: after.external - before.external,
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
  if (role === 'server') return serve(a as Mode);
  if (role === 'client') return connectAll(Number(a), Number(b));
  const n = role !== undefined && /^\d+$/.test(role) ? Number(role) : 2_000;
  const snapshot = process.argv.includes('--snapshot');
  console.log(`${n} idle keep-alive connections, node ${process.version}; server growth per connection:`);
  console.log('server         heap/conn   rss/conn   external/conn');
  const bytes = (x: number) => `${(x / n).toFixed(0)} B`.padStart(9);
  for (const mode of MODES) {
    const d = await growth(mode, n, snapshot);
    console.log(
      `${mode.padEnd(13)} ${bytes(d.heapUsed)}  ${bytes(d.rss)}  ${bytes(d.external).padStart(14)}`,
    );
  }
}

await main();
