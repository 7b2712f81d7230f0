/**
 * Graceful-upgrade socket hand-over with real processes and sockets. The native suite is dropped
 * only under PINGORA_TS_NATIVE=0; otherwise the addon must be built (`pnpm run build:native` in
 * packages/core), so a missing or broken build fails here instead of passing silently.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { createConnection, createServer, type NetConnectOpts, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  closeServerKeepingPath,
  type FdPassing,
  fdPassingAvailable,
  listeningFd,
  loadFdPassing,
  receiveListenFds,
  sendListenFds,
} from './fd-passing.js';

const nativeDisabled = process.env.PINGORA_TS_NATIVE === '0';
const pkgDir = fileURLToPath(new URL('../../..', import.meta.url));
const fixture = fileURLToPath(new URL('./fixtures/send-listen-fds.ts', import.meta.url));

let dir: string;
const cleanups: (() => void)[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pingora-upgrade-'));
});
afterEach(() => {
  for (const undo of cleanups.splice(0)) undo();
  rmSync(dir, { recursive: true, force: true });
});

/** The whole answer of the server at `target` (servers here write one word and close). */
async function ask(target: NetConnectOpts): Promise<string> {
  const socket = createConnection(target);
  let text = '';
  socket.setEncoding('utf8').on('data', (c: string) => {
    text += c;
  });
  await once(socket, 'end');
  socket.destroy();
  return text;
}

function listen(server: Server, options: object): Promise<Server> {
  cleanups.push(() => server.close());
  return new Promise((resolve) => server.listen(options, () => resolve(server)));
}

type Event = Record<string, unknown> & { event: string };

/** The old process (fixtures/send-listen-fds.ts) and a way to wait for each of its JSON events. */
function startOldProcess(upgradeSock: string, udsPath: string) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=@pingora-ts/source', fixture, upgradeSock, udsPath, '50', '400'],
    { cwd: pkgDir, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  cleanups.push(() => child.kill());
  const events: Event[] = [];
  let buffered = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      events.push(JSON.parse(buffered.slice(0, nl)) as Event);
      buffered = buffered.slice(nl + 1);
      child.emit('event');
    }
  });
  const exited = once(child, 'close').then(([code]) => code as number | null);
  const next = (name: string) =>
    new Promise<Event>((resolve, reject) => {
      const check = () => {
        const found = events.find((e) => e.event === name);
        if (found) resolve(found);
        return found !== undefined;
      };
      if (check()) return;
      child.on('event', check);
      exited.then(
        () => check() || reject(new Error(`old process exited before "${name}": ${JSON.stringify(events)}`)),
      );
    });
  return { child, events, exited, next };
}

/** Whether `fd` has FD_CLOEXEC in this process (Linux /proc). */
function cloexec(fd: number): boolean {
  const flags = /flags:\s+([0-7]+)/.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1];
  return (Number.parseInt(flags ?? '0', 8) & 0o2000000) !== 0;
}

/** A real addon whose upgrade socket receives `payload` + `fds` from this process right after it listens. */
function sendingOnListen(fdp: FdPassing, payload: string, fds: number[]): FdPassing {
  return {
    ...fdp,
    listenUpgradeSocket(path) {
      const fd = fdp.listenUpgradeSocket(path);
      fdp.connectAndSend(path, payload, fds);
      return fd;
    },
  };
}

const NOT_BUILT = 'fd-passing addon not built: run `pnpm run build:native` in packages/core';

/** The loaded addon; a missing build fails the test with how to build it. */
function addon(): FdPassing {
  const fdp = loadFdPassing();
  if (fdp === undefined) throw new Error(NOT_BUILT);
  return fdp;
}

function thrown(fn: () => unknown): NodeJS.ErrnoException {
  try {
    fn();
  } catch (err) {
    return err as NodeJS.ErrnoException;
  }
  throw new Error('expected a throw');
}

describe.skipIf(nativeDisabled)('fd-passing addon', () => {
  it('is loaded (PINGORA_TS_NATIVE is not 0, so a missing build is a failure)', () => {
    expect(fdPassingAvailable(), NOT_BUILT).toBe(true);
  });

  it('hands TCP and Unix listeners to a new process: after the old one exits, the new servers answer', async () => {
    const fdp = addon();
    const upgradeSock = join(dir, 'upgrade.sock');
    const udsPath = join(dir, 'echo.sock');
    const old = startOldProcess(upgradeSock, udsPath);
    const { port, tcpAddress } = (await old.next('listening')) as Event & {
      port: number;
      tcpAddress: string;
    };
    expect(await ask({ host: '127.0.0.1', port })).toBe('old');
    // The sender started before anyone listened on the upgrade socket, and retries.
    expect((await old.next('retry')).code).toBe('ENOENT');

    const started = performance.now();
    const fds = receiveListenFds(upgradeSock, { retries: 100, intervalMs: 100 });
    expect(performance.now() - started).toBeLessThan(10_500);
    expect([...fds.keys()]).toEqual([tcpAddress, udsPath]);
    expect(existsSync(upgradeSock)).toBe(false);
    const tcpFd = fds.get(tcpAddress)!;
    const udsFd = fds.get(udsPath)!;
    expect(cloexec(tcpFd) && cloexec(udsFd)).toBe(true);

    // TCP: adopted by this process.
    await listen(
      createServer((s) => s.end('new')),
      { fd: tcpFd },
    );
    // Unix: inherited by a child through spawn's stdio mapping, despite close-on-exec.
    const heir: ChildProcess = spawn(
      process.execPath,
      ['-e', "require('net').createServer((s) => s.end('heir')).listen({ fd: 3 }, () => console.log('up'))"],
      { stdio: ['ignore', 'pipe', 'inherit', udsFd] },
    );
    cleanups.push(() => heir.kill());
    await once(heir.stdout!, 'data');
    fdp.closeFd(udsFd);

    expect(await old.exited).toBe(0);
    expect(old.events.map((e) => e.event)).toContain('closed');
    expect(await ask({ host: '127.0.0.1', port })).toBe('new');
    expect(await ask({ path: udsPath })).toBe('heir');
  });

  it('nobody sends: a one-line error naming the socket after (retries + 1) * intervalMs', () => {
    const path = join(dir, 'upgrade.sock');
    const started = performance.now();
    const err = thrown(() => receiveListenFds(path, { retries: 2, intervalMs: 50 }));
    const elapsed = performance.now() - started;
    expect(err.message).toContain(`no listening sockets arrived on ${path} within 150 ms`);
    expect(err.message).not.toContain('\n');
    expect(err.code).toBe('ETIMEDOUT');
    expect(elapsed).toBeGreaterThanOrEqual(145);
    expect(elapsed).toBeLessThan(5000);
    expect(existsSync(path)).toBe(false);
  });

  it('sender: retries ENOENT and ECONNREFUSED, then gives up with the code and the path', async () => {
    const missing = join(dir, 'missing.sock');
    const attempts: [string | undefined, number][] = [];
    const err = await sendListenFds(missing, [['127.0.0.1:1', 0]], {
      retries: 2,
      intervalMs: 5,
      onRetry: (e, n) => attempts.push([e.code, n]),
    }).catch((e: NodeJS.ErrnoException) => e);
    expect(attempts).toEqual([
      ['ENOENT', 1],
      ['ENOENT', 2],
    ]);
    expect((err as NodeJS.ErrnoException).code).toBe('ENOENT');
    expect((err as Error).message).toBe(
      `graceful upgrade: sending listening sockets to ${missing} failed after 3 attempt(s): connect ENOENT ${missing}`,
    );

    // A socket file nobody listens on any more (a crashed receiver).
    const fdp = addon();
    const stale = join(dir, 'stale.sock');
    fdp.closeFd(fdp.listenUpgradeSocket(stale));
    const refused = await sendListenFds(stale, [['a', 0]], { retries: 0 }).catch((e) => e);
    expect(refused.code).toBe('ECONNREFUSED');
  });

  it('limits: 32 fds and 2048 bytes pass intact, one more of either is refused before connecting', async () => {
    const fdp = addon();
    const server = await listen(createServer(), { port: 0, host: '127.0.0.1' });
    const fd = listeningFd(server);
    // 32 addresses of 63 or 64 bytes and 31 spaces: exactly 2048 bytes.
    const entries = Array.from({ length: 32 }, (_, i): [string, number] => [
      `${i}`.padStart(i ? 63 : 64, 'a'),
      fd,
    ]);
    const path = join(dir, 'upgrade.sock');
    const listenFd = fdp.listenUpgradeSocket(path);
    cleanups.push(() => fdp.closeFd(listenFd));
    await sendListenFds(path, entries, { retries: 0 });
    const got = fdp.acceptAndReceive(listenFd, 5000)!;
    expect(Buffer.byteLength(got.payload)).toBe(2048);
    expect(got.payload.split(' ')).toEqual(entries.map(([a]) => a));
    expect(got.fds).toHaveLength(32);
    expect(new Set(got.fds).size).toBe(32);
    for (const received of got.fds) {
      expect(readlinkSync(`/proc/self/fd/${received}`)).toBe(readlinkSync(`/proc/self/fd/${fd}`));
      fdp.closeFd(received);
    }

    const missing = join(dir, 'never.sock');
    await expect(sendListenFds(missing, [...entries, ['b', fd]], { retries: 0 })).rejects.toThrow(
      /33 listening sockets, at most 32/,
    );
    const long: [string, number][] = [['x'.repeat(2049), fd]];
    await expect(sendListenFds(missing, long, { retries: 0 })).rejects.toThrow(/2049 bytes, at most 2048/);
    await expect(sendListenFds(missing, [['a b', fd]])).rejects.toThrow(/without whitespace/);
    await expect(sendListenFds(missing, [['a', -1]])).rejects.toThrow(/integer >= 0/);
    await expect(sendListenFds(missing, [], { retries: 0 })).resolves.toBeUndefined(); // nothing to send
  });

  it('receiver: splits on any whitespace, refuses a count mismatch, last of a repeated address wins', async () => {
    const fdp = addon();
    const server = await listen(createServer(), { port: 0, host: '127.0.0.1' });
    const fd = listeningFd(server);
    const path = join(dir, 'upgrade.sock');

    const map = receiveListenFds(path, {
      fdPassing: sendingOnListen(fdp, ' a\n\tb  ', [fd, fd]),
      retries: 0,
    });
    expect([...map.keys()]).toEqual(['a', 'b']);
    for (const received of map.values()) fdp.closeFd(received);

    const err = thrown(() =>
      receiveListenFds(path, { fdPassing: sendingOnListen(fdp, 'a b', [fd]), retries: 0 }),
    );
    expect(err.message).toBe(`graceful upgrade: the old process sent 2 addresses but 1 sockets on ${path}`);
    expect(existsSync(path)).toBe(false);

    const repeated = receiveListenFds(path, { fdPassing: sendingOnListen(fdp, 'a a', [fd, fd]), retries: 0 });
    expect(repeated.size).toBe(1);
    fdp.closeFd(repeated.get('a')!);
  });

  it('a peer that connects and closes without sending is an error, not a hang', async () => {
    const fdp = addon();
    const path = join(dir, 'upgrade.sock');
    const listenFd = fdp.listenUpgradeSocket(path);
    cleanups.push(() => fdp.closeFd(listenFd));
    const peer = spawn(process.execPath, [
      '-e',
      `const s = require('net').connect(${JSON.stringify(path)}, () => s.destroy())`,
    ]);
    expect((await once(peer, 'close'))[0]).toBe(0);
    const err = thrown(() => fdp.acceptAndReceive(listenFd, 5000));
    expect(err.code).toBe('ECONNRESET');
    expect(err.syscall).toBe('recvmsg');
    expect(fdp.acceptAndReceive(listenFd, 0)).toBeUndefined();
  });

  it('primitives reject bad arguments and report system errors with a code', () => {
    const fdp = addon();
    const nowhere = join(dir, 'no-such-dir', 'upgrade.sock');
    const err = thrown(() => fdp.listenUpgradeSocket(nowhere));
    expect([err.code, err.syscall, err.message]).toEqual(['ENOENT', 'bind', `bind ENOENT ${nowhere}`]);
    expect(thrown(() => fdp.listenUpgradeSocket(join(dir, 'x'.repeat(120)))).code).toBe('ENAMETOOLONG');
    expect(thrown(() => receiveListenFds(nowhere, { retries: 0 })).message).toBe(
      `graceful upgrade: receiving listening sockets on ${nowhere} failed: bind ENOENT ${nowhere}`,
    );
    const bad = fdp as unknown as Record<string, (...args: unknown[]) => unknown>;
    expect(() => bad.acceptAndReceive!('3', 10)).toThrow(TypeError);
    expect(() => bad.acceptAndReceive!(3, -1)).toThrow(TypeError);
    expect(() => bad.connectAndSend!(nowhere, 'a', [1.5])).toThrow(TypeError);
    expect(() => bad.connectAndSend!(nowhere, '', [1])).toThrow(TypeError);
    expect(() => bad.closeFd!(-1)).toThrow(TypeError);
    expect(() => receiveListenFds(nowhere, { retries: -1 })).toThrow(RangeError);
  });
});

describe('helpers without the addon', () => {
  it('listeningFd: the socket of a listening server, a clear error otherwise', async () => {
    const idle = createServer();
    expect(() => listeningFd(idle)).toThrow(/not listening/);
    const server = await listen(createServer(), { port: 0, host: '127.0.0.1' });
    expect(readlinkSync(`/proc/self/fd/${listeningFd(server)}`)).toMatch(/^socket:/);
  });

  it('closeServerKeepingPath: the Unix socket path survives the close, with no spare link left', async () => {
    const path = join(dir, 'echo.sock');
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(path, resolve));
    await new Promise<void>((resolve) => closeServerKeepingPath(server, () => resolve()));
    expect(readdirSync(dir)).toEqual(['echo.sock']);
  });
});

describe('PINGORA_TS_NATIVE=0', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  it('disables the addon; the protocol functions say why', async () => {
    vi.stubEnv('PINGORA_TS_NATIVE', '0');
    vi.resetModules();
    const fresh = await import('./fd-passing.js');
    expect(fresh.loadFdPassing()).toBeUndefined();
    expect(fresh.fdPassingAvailable()).toBe(false);
    const path = join(dir, 'upgrade.sock');
    expect(() => fresh.receiveListenFds(path)).toThrow(/disabled by PINGORA_TS_NATIVE=0/);
    await expect(fresh.sendListenFds(path, [['a', 0]])).rejects.toThrow(/fd-passing addon/);
    await expect(fresh.sendListenFds(path, [])).resolves.toBeUndefined();
    expect(existsSync(path)).toBe(false);
  });
});
