import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorType, PingoraError } from '@pingora-ts/error';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import {
  connect,
  type LogEntry,
  memoryLogger,
  readUntilClose,
  refused,
  roundTrip,
  startedService,
  tcpPort,
} from '../../test/helpers.js';
import { EchoApp } from '../apps/echo.js';
import type { ServerApp } from '../apps/server-app.js';
import { ShutdownController } from '../server/shutdown.js';
import { reusePortSupported } from './listener.js';
import { Service } from './listening.js';

const dir = mkdtempSync(join(tmpdir(), 'pingora-svc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

class RecordingEcho extends EchoApp {
  shutdowns: boolean[] = [];
  cleanups = 0;
  onShutdown(graceful: boolean): void {
    this.shutdowns.push(graceful);
  }
  cleanup(): void {
    this.cleanups++;
  }
}

let entries: LogEntry[] = [];
const services: Service[] = [];
const clients: net.Socket[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const c of clients.splice(0)) c.destroy();
  await Promise.all(services.splice(0).map((s) => s.stop(false, 0)));
  entries = [];
});

const started = <A extends ServerApp>(app: A, setup: (s: Service<A>) => void): Promise<Service<A>> =>
  startedService('test', entries, services, app, setup);

async function client(target: Parameters<typeof connect>[0]): Promise<net.Socket> {
  const c = await connect(target);
  clients.push(c);
  return c;
}

describe('Service over TCP', () => {
  it('serves a raw echo app on an ephemeral port and reports the bound address', async () => {
    const app = new EchoApp();
    const svc = await started(app, (s) => s.addTcp('127.0.0.1:0'));
    const [addr] = svc.addresses();
    expect(addr).toMatchObject({ kind: 'tcp', address: '127.0.0.1', family: 'IPv4' });
    const c = await client({ port: tcpPort(svc) });
    expect(await roundTrip(c, 'hello pingora')).toBe('hello pingora');
    expect(svc.connections).toBe(1);
    expect(app.served).toBe(1);
    expect(entries.some((e) => e.msg === 'listening' && e.obj.service === 'test')).toBe(true);
  });

  it('listens on IPv6 loopback and on several endpoints', async () => {
    const svc = await started(new EchoApp(), (s) =>
      s.addTcp('[::1]:0').addTcpWithSettings('127.0.0.1:0', {}),
    );
    const [v6, v4] = svc.addresses();
    expect(v6).toMatchObject({ kind: 'tcp', address: '::1', family: 'IPv6' });
    if (v6?.kind !== 'tcp' || v4?.kind !== 'tcp') throw new Error('tcp expected');
    expect(await roundTrip(await client({ port: v6.port, host: '::1' }), 'six')).toBe('six');
    expect(await roundTrip(await client({ port: v4.port }), 'four')).toBe('four');
  });

  it('accepts socket options (keepalive, noDelay off, backlog, reusePort)', async () => {
    const svc = await started(new EchoApp(), (s) =>
      s.addTcp('127.0.0.1:0', {
        tcpKeepalive: { idleMs: 30_000 },
        noDelay: false,
        backlog: 16,
        reusePort: true,
      }),
    );
    expect(await roundTrip(await client({ port: tcpPort(svc) }), 'x')).toBe('x');
    const warned = entries.some((e) => e.level === 'warn' && e.msg === 'reusePort is not supported here');
    expect(warned).toBe(!reusePortSupported);
  });

  it('refuses configuration changes and a second start once started', async () => {
    const svc = await started(new EchoApp(), (s) => s.addTcp('127.0.0.1:0'));
    expect(() => svc.addTcp('127.0.0.1:0')).toThrow(/already started/);
    await expect(svc.start(new ShutdownController().watch)).rejects.toThrow(/already started/);
  });

  it('fails start with a BindError and releases the endpoints it had bound', async () => {
    const taken = await started(new EchoApp(), (s) => s.addTcp('127.0.0.1:0'));
    const busy = tcpPort(taken);
    const svc = new Service('two', new EchoApp(), {
      logger: memoryLogger(),
      bindRetry: { retries: 0, delayMs: 0 },
    });
    svc.addTcp('127.0.0.1:0').addTcp(`127.0.0.1:${busy}`);
    const err = await svc.start(new ShutdownController().watch).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PingoraError);
    expect((err as PingoraError).type).toBe(ErrorType.BindError);
    expect((err as PingoraError).message).toContain(`127.0.0.1:${busy}`);
    expect(svc.addresses()).toEqual([]);
  });
});

describe('Service over a Unix socket', () => {
  it('serves on the path with the requested mode and removes the file on stop', async () => {
    const path = join(dir, 'echo.sock');
    const svc = await started(new EchoApp(), (s) => s.addUds(path, 0o600));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(svc.addresses()).toEqual([{ kind: 'uds', path }]);
    expect(await roundTrip(await client(path), 'over uds')).toBe('over uds');
    await svc.stop(false, 0);
    expect(existsSync(path)).toBe(false);
  });

  it('defaults to mode 0o666 and replaces a stale socket left by a killed process', async () => {
    const path = join(dir, 'stale.sock');
    const code = `require('net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`;
    spawnSync(process.execPath, ['-e', code]);
    expect(statSync(path).isSocket()).toBe(true);
    await started(new EchoApp(), (s) => s.addUds(path));
    expect(statSync(path).mode & 0o777).toBe(0o666);
    expect(await roundTrip(await client(path), 'fresh')).toBe('fresh');
  });

  it('will not remove a regular file in the way', async () => {
    const path = join(dir, 'not-a-socket');
    writeFileSync(path, 'keep me');
    const svc = new Service('uds', new EchoApp(), { logger: memoryLogger() }).addUds(path);
    await expect(svc.start(new ShutdownController().watch)).rejects.toThrow(/not a socket/);
    expect(statSync(path).isFile()).toBe(true);
  });
});

describe('connection filter', () => {
  it('rejects every second connection before the app sees it; the client gets no data', async () => {
    const app = new EchoApp();
    const seen: Array<{ address: string; port: number; family: string }> = [];
    let n = 0;
    const svc = await started(app, (s) =>
      s.addTcp('127.0.0.1:0').setConnectionFilter((remote) => {
        seen.push(remote);
        return n++ % 2 === 0;
      }),
    );
    const port = tcpPort(svc);
    const first = await client({ port });
    expect(await roundTrip(first, 'ok')).toBe('ok');
    const second = await client({ port });
    second.write('ignored');
    expect((await readUntilClose(second)).data).toBe('');
    expect(await roundTrip(await client({ port }), 'third')).toBe('third');
    expect(app.served).toBe(2);
    expect(seen[0]).toEqual({ address: '127.0.0.1', port: first.localPort, family: 'IPv4' });
  });

  it('awaits an async filter, and a throwing filter rejects and is logged', async () => {
    let mode: 'async-no' | 'throw' | 'async-yes' = 'async-no';
    const svc = await started(new EchoApp(), (s) =>
      s.addTcp('127.0.0.1:0').setConnectionFilter(async () => {
        if (mode === 'throw') throw new Error('filter bug');
        return mode === 'async-yes';
      }),
    );
    const port = tcpPort(svc);
    expect((await readUntilClose(await client({ port }))).data).toBe('');
    mode = 'throw';
    expect((await readUntilClose(await client({ port }))).data).toBe('');
    expect(entries.some((e) => e.level === 'error' && e.msg?.includes('connection filter failed'))).toBe(
      true,
    );
    mode = 'async-yes';
    expect(await roundTrip(await client({ port }), 'in')).toBe('in');
  });
});

describe('app failures', () => {
  it('logs a throwing or rejecting app, destroys that socket and keeps serving', async () => {
    let calls = 0;
    const app: ServerApp = {
      processNew(socket) {
        calls++;
        if (calls === 1) throw new Error('sync bug');
        if (calls === 2) return Promise.reject(new Error('async bug'));
        socket.end('fine');
        return undefined;
      },
    };
    const svc = await started(app, (s) => s.addTcp('127.0.0.1:0'));
    const port = tcpPort(svc);
    expect((await readUntilClose(await client({ port }))).data).toBe('');
    expect((await readUntilClose(await client({ port }))).data).toBe('');
    expect((await readUntilClose(await client({ port }))).data).toBe('fine');
    const failures = entries.filter((e) => e.msg === 'app failed on a connection');
    expect(failures.map((e) => (e.obj.err as Error).message)).toEqual(['sync bug', 'async bug']);
  });
});

describe('stop', () => {
  it('graceful: stops listening at once, lets a held connection finish, then cleans up', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const app = new RecordingEcho();
    const svc = await started(app, (s) => s.addTcp('127.0.0.1:0'));
    const port = tcpPort(svc);
    const held = await client({ port });
    await roundTrip(held, 'before');
    const stopping = svc.stop(true, 60_000);
    expect(await refused(port)).toBe(true);
    expect(app.shutdowns).toEqual([true]);
    expect(await roundTrip(held, 'during')).toBe('during');
    const closed = readUntilClose(held);
    held.end();
    await closed;
    await stopping;
    expect(app.cleanups).toBe(1);
    expect(svc.connections).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('graceful: destroys what is still open when the grace period ends', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const app = new RecordingEcho();
    const svc = await started(app, (s) => s.addTcp('127.0.0.1:0'));
    const held = await client({ port: tcpPort(svc) });
    await roundTrip(held, 'x');
    let done = false;
    const stopping = svc.stop(true, 10_000).then(() => {
      done = true;
    });
    const closed = readUntilClose(held);
    await vi.advanceTimersByTimeAsync(9_999);
    expect(held.destroyed).toBe(false);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await closed;
    await stopping;
    expect(app.cleanups).toBe(1);
    expect(entries.some((e) => e.msg === 'grace period over, closing remaining connections')).toBe(true);
  });

  it('fast: destroys connections at once', async () => {
    const app = new RecordingEcho();
    const svc = await started(app, (s) => s.addTcp('127.0.0.1:0'));
    const held = await client({ port: tcpPort(svc) });
    await roundTrip(held, 'x');
    const closed = readUntilClose(held);
    await svc.stop(false, 60_000);
    await closed;
    expect(app.shutdowns).toEqual([false]);
    expect(app.cleanups).toBe(1);
  });

  it('a fast stop escalates a graceful one under way; repeated stops share one promise', async () => {
    const app = new RecordingEcho();
    const svc = await started(app, (s) => s.addTcp('127.0.0.1:0'));
    const held = await client({ port: tcpPort(svc) });
    await roundTrip(held, 'x');
    const graceful = svc.stop(true, 600_000);
    const closed = readUntilClose(held);
    const fast = svc.stop(false, 0);
    expect(fast).toBe(graceful);
    await closed;
    await fast;
    expect(app.shutdowns).toEqual([true, false]);
    expect(app.cleanups).toBe(1);
    await svc.stop(false, 0);
    expect(app.shutdowns).toEqual([true, false]);
  });

  it('a service that never started stops without touching the app', async () => {
    const app = new RecordingEcho();
    const svc = new Service('idle', app, { logger: memoryLogger() }).addTcp('127.0.0.1:0');
    await svc.stop(true, 1_000);
    expect(app.shutdowns).toEqual([]);
    expect(app.cleanups).toBe(0);
    await expect(svc.start(new ShutdownController().watch)).rejects.toThrow(/already started/);
  });

  it('logs an app whose onShutdown or cleanup throws and still finishes', async () => {
    const app: ServerApp = {
      processNew: (s) => void s.end(),
      onShutdown() {
        throw new Error('onShutdown bug');
      },
      cleanup: () => Promise.reject(new Error('cleanup bug')),
    };
    const svc = await started(app, (s) => s.addTcp('127.0.0.1:0'));
    await svc.stop(true, 0);
    expect(entries.filter((e) => e.level === 'error').map((e) => e.msg)).toEqual([
      'app onShutdown failed',
      'app cleanup failed',
    ]);
  });
});

describe('accept errors', () => {
  it('an error reported by a listening server (EMFILE on accept) is logged and serving continues', async () => {
    let accepted: net.Socket | undefined;
    const app: ServerApp = {
      processNew(socket) {
        accepted ??= socket;
        socket.pipe(socket);
      },
    };
    const svc = await started(app, (s) => s.addTcp('127.0.0.1:0'));
    const port = tcpPort(svc);
    await roundTrip(await client({ port }), 'a');
    // An accepted socket knows its net.Server: emit what libuv reports when out of descriptors.
    const listening = (accepted as unknown as { server: net.Server }).server;
    listening.emit('error', Object.assign(new Error('accept EMFILE'), { code: 'EMFILE', syscall: 'accept' }));
    expect(entries.some((e) => e.level === 'error' && e.msg === 'accept failed; still accepting')).toBe(true);
    expect(await roundTrip(await client({ port }), 'still')).toBe('still');
  });
});
