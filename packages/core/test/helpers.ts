/**
 * Test helpers for the server-lifecycle tests: a logger that records, and small socket utilities
 * with bounded waits (every wait ends on an event, never on a sleep).
 */
import { once } from 'node:events';
import * as net from 'node:net';
import type { ServerApp } from '../src/apps/server-app.js';
import type { Logger } from '../src/logger.js';
import { ShutdownController } from '../src/server/shutdown.js';
import { Service } from '../src/services/listening.js';

/**
 * `PINGORA_TS_H1_ENGINE=node` serves every `HttpServer` with node:http, so the raw engine's own
 * tests have nothing to run.
 */
export const NODE_ENGINE_FORCED = process.env.PINGORA_TS_H1_ENGINE === 'node';

/** One recorded log call. */
export interface LogEntry {
  level: string;
  obj: Record<string, unknown>;
  msg: string | undefined;
}

/** A logger that keeps every record in `entries` (children share the array). */
export function memoryLogger(
  entries: LogEntry[] = [],
  bindings: Record<string, unknown> = {},
): Logger & {
  entries: LogEntry[];
} {
  const fn =
    (level: string) =>
    (a: object | string, msg?: string): void => {
      if (typeof a === 'string') entries.push({ level, obj: { ...bindings }, msg: a });
      else entries.push({ level, obj: { ...bindings, ...(a as Record<string, unknown>) }, msg });
    };
  return {
    entries,
    level: 'trace',
    trace: fn('trace'),
    debug: fn('debug'),
    info: fn('info'),
    warn: fn('warn'),
    error: fn('error'),
    fatal: fn('fatal'),
    child: (b) => memoryLogger(entries, { ...bindings, ...b }),
  };
}

/**
 * Starts a service named `name` running `app` on the listeners that `setup` adds, logging into
 * `entries`, with no bind retries; pushes it to `services` for the test file's afterEach to stop.
 */
export async function startedService<A extends ServerApp>(
  name: string,
  entries: LogEntry[],
  services: Service[],
  app: A,
  setup: (s: Service<A>) => void,
): Promise<Service<A>> {
  const svc = new Service(name, app, {
    logger: memoryLogger(entries),
    bindRetry: { retries: 0, delayMs: 0 },
  });
  setup(svc);
  services.push(svc as unknown as Service);
  await svc.start(new ShutdownController().watch);
  return svc;
}

/** The first TCP port a started service is bound to. */
export function tcpPort(svc: Service): number {
  const a = svc.addresses().find((x) => x.kind === 'tcp');
  if (a === undefined || a.kind !== 'tcp') throw new Error('no tcp address');
  return a.port;
}

/** Connect and wait for the connection (rejects on error, e.g. ECONNREFUSED). */
export async function connect(target: { port: number; host?: string } | string): Promise<net.Socket> {
  const socket =
    typeof target === 'string'
      ? net.connect({ path: target })
      : net.connect({ port: target.port, host: target.host ?? '127.0.0.1' });
  await once(socket, 'connect');
  return socket;
}

/** Everything the peer sends until it closes the connection (or the socket errors). */
export async function readUntilClose(socket: net.Socket): Promise<{ data: string; error?: string }> {
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  let error: string | undefined;
  socket.on('error', (e: NodeJS.ErrnoException) => {
    error = e.code ?? e.message;
  });
  if (!socket.destroyed) await once(socket, 'close');
  return { data: Buffer.concat(chunks).toString(), ...(error === undefined ? {} : { error }) };
}

/** Send `text` and wait until exactly that many bytes came back. */
export async function roundTrip(socket: net.Socket, text: string): Promise<string> {
  const want = Buffer.byteLength(text);
  let got = '';
  const done = new Promise<void>((resolve, reject) => {
    const onData = (c: Buffer) => {
      got += c.toString();
      if (Buffer.byteLength(got) >= want) {
        socket.off('data', onData);
        socket.off('close', onClose);
        resolve();
      }
    };
    const onClose = () => reject(new Error(`closed after ${JSON.stringify(got)}`));
    socket.on('data', onData);
    socket.once('close', onClose);
  });
  socket.write(text);
  await done;
  return got;
}

/** Whether a connection to `port` is refused. */
export async function refused(port: number, host = '127.0.0.1'): Promise<boolean> {
  const socket = net.connect({ port, host });
  try {
    await once(socket, 'connect');
    socket.destroy();
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ECONNREFUSED';
  }
}
