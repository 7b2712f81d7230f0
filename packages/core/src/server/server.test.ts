import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorType, PingoraError } from '@pingora-ts/error';
import { waitFor } from '@pingora-ts/test-utils';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { connect, memoryLogger, readUntilClose, refused, roundTrip, tcpPort } from '../../test/helpers.js';
import { EchoApp } from '../apps/echo.js';
import { backgroundService } from '../services/background.js';
import { Service } from '../services/listening.js';
import type { ServerService } from '../services/service.js';
import { ServerConf } from './conf.js';
import { Opt } from './opt.js';
import { type ExecutionPhase, Server, type ServerOptions } from './server.js';
import { ShutdownController, type ShutdownWatch } from './shutdown.js';

const dir = mkdtempSync(join(tmpdir(), 'pingora-server-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const servers: Server[] = [];
afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(servers.splice(0).map((s) => s.shutdown({ graceful: false })));
});

function make(opt: Opt | null = null, conf?: ServerConf, extra: ServerOptions = {}) {
  const logger = memoryLogger();
  const exits: number[] = [];
  const server = new Server(opt, conf, {
    logger,
    exit: (c) => void exits.push(c),
    catchUncaught: false,
    ...extra,
  });
  const phases: ExecutionPhase[] = [];
  server.onPhase((p) => phases.push(p));
  servers.push(server);
  return { server, logger, exits, phases };
}

function echoService(name = 'echo'): Service<EchoApp> {
  return new Service(name, new EchoApp(), { bindRetry: { retries: 0, delayMs: 0 } }).addTcp('127.0.0.1:0');
}

describe('Server construction and bootstrap', () => {
  it('uses the default conf without -c, and reads the YAML file given with -c', () => {
    expect(make().server.configuration.version).toBe(1);
    const path = join(dir, 'conf.yaml');
    writeFileSync(path, 'version: 1\ngrace_period_seconds: 7\n');
    const { server } = make(new Opt({ conf: path, daemon: true }));
    expect(server.configuration.gracePeriodSeconds).toBe(7);
    expect(server.configuration.daemon).toBe(true); // -d turns daemon on
  });

  it('prefers an explicit conf over opt.conf, without mutating it', () => {
    const conf = new ServerConf({ maxRetries: 2 });
    const { server } = make(new Opt({ conf: '/does/not/exist.yaml', daemon: true }), conf);
    expect(server.configuration.maxRetries).toBe(2);
    expect(conf.daemon).toBe(false);
  });

  it('throws when the conf file is invalid', () => {
    const path = join(dir, 'bad.yaml');
    writeFileSync(path, 'threads: 0\n');
    expect(() => make(new Opt({ conf: path }))).toThrow(/bad\.yaml:1: threads/);
  });

  it('bootstrap() with -t prints one line and exits 0 after validating', () => {
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const { server, exits, logger, phases } = make(new Opt({ test: true }));
    server.bootstrap();
    expect(exits).toEqual([0]);
    expect(write.mock.calls).toEqual([['pingora-ts: default configuration test is successful\n']]);
    expect(logger.entries).toEqual([]);
    expect(phases).toEqual(['Bootstrap']);
    write.mockRestore();
  });

  it('throws the one-line PingoraError for a bad conf given programmatically', () => {
    const path = join(dir, 'typo.yaml');
    writeFileSync(path, 'version: 1\ntreads: 2\n');
    const err = (() => {
      try {
        make(new Opt({ conf: path }));
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(PingoraError);
    expect((err as PingoraError).message).toBe(`${path}:2: treads: unknown key (did you mean "threads"?)`);
  });

  it('bootstrap() with -h prints the usage and exits 0', () => {
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const { server, exits } = make(new Opt({ help: true }));
    server.bootstrap();
    expect(exits).toEqual([0]);
    expect(String(write.mock.calls[0]?.[0])).toContain('-c, --conf <path>');
  });

  it('bootstrap() with -u and no old server sending: logs why, completes, binds fresh', () => {
    const upgradeSock = join(tmpdir(), `pingora-ts-u-${process.pid}.sock`);
    const conf = new ServerConf({ upgradeSock, upgradeSockConnectAcceptMaxRetries: 0 });
    const { server, exits, logger, phases } = make(new Opt({ upgrade: true }), conf);
    server.bootstrap();
    expect(exits).toEqual([]);
    const line = logger.entries.find((e) => e.level === 'error')?.msg ?? '';
    // Without the native addon the reason is the addon; with it, nobody sent on the socket.
    expect(line).toMatch(/native addon of @pingora-ts\/core|no listening sockets arrived on/);
    expect(line).toMatch(/binding listeners fresh/);
    expect(phases).toEqual(['Bootstrap', 'BootstrapComplete']);
  });
});

describe('Server.start / shutdown', () => {
  it('runs two services and stops them gracefully, waiting for an open connection', async () => {
    const { server, phases } = make();
    const echo = server.addService(echoService());
    let bgSaw: ShutdownWatch | undefined;
    const bg = backgroundService('watcher', {
      async start(shutdown) {
        bgSaw = shutdown;
        await shutdown.wait();
      },
    });
    server.addServices([bg]);
    await server.start();
    expect(phases).toEqual(['Running']);
    expect(bgSaw).toBe(server.shutdownWatch);
    const port = tcpPort(echo);
    const held = await connect({ port });
    await roundTrip(held, 'hi');
    const stopping = server.shutdown();
    expect(server.shutdownWatch.graceful).toBe(true);
    expect(await refused(port)).toBe(true);
    expect(await roundTrip(held, 'still here')).toBe('still here');
    const closed = readUntilClose(held);
    held.end();
    await closed;
    await stopping;
    expect(bg.finished).toBe(true);
    expect(phases).toEqual([
      'Running',
      'GracefulTerminate',
      'ShutdownStarted',
      'ShutdownGracePeriod',
      'Terminated',
    ]);
  });

  it('a fast shutdown after a graceful one cuts the drain short', async () => {
    const { server } = make();
    const echo = server.addService(echoService());
    await server.start();
    const held = await connect({ port: tcpPort(echo) });
    await roundTrip(held, 'x');
    const graceful = server.shutdown({ graceful: true });
    const closed = readUntilClose(held);
    expect(server.shutdown({ graceful: false })).toBe(graceful);
    await closed;
    await graceful;
    expect(server.phase).toBe('Terminated');
  });

  it('stops the services already started when a later one fails to start, and rethrows', async () => {
    const blocker = echoService('blocker');
    await blocker.start(new ShutdownController().watch, memoryLogger());
    try {
      const { server, logger } = make();
      const first = server.addService(echoService('first'));
      const clash = new Service('clash', new EchoApp(), { bindRetry: { retries: 0, delayMs: 0 } });
      server.addService(clash.addTcp(`127.0.0.1:${tcpPort(blocker)}`));
      const err = await server.start().catch((e: unknown) => e);
      expect((err as { type?: unknown }).type).toBe(ErrorType.BindError);
      expect(first.addresses()).toEqual([]);
      expect(logger.entries.some((e) => e.msg === 'stopped' && e.obj.service === 'first')).toBe(true);
      expect(server.phase).toBe('Setup');
    } finally {
      await blocker.stop(false, 0);
    }
  });

  it('gives up on services that do not stop within grace + graceful_shutdown_timeout_seconds', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const conf = new ServerConf({ gracePeriodSeconds: 10, gracefulShutdownTimeoutSeconds: 5 });
    const { server, logger } = make(null, conf);
    const stuck: ServerService = { name: 'stuck', start() {}, stop: () => new Promise<void>(() => {}) };
    server.addService(stuck);
    await server.start();
    let done = false;
    const stopping = server.shutdown().then(() => {
      done = true;
    });
    await vi.advanceTimersByTimeAsync(14_999);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await stopping;
    expect(logger.entries.some((e) => e.msg === 'services did not stop in time')).toBe(true);
  });

  it('logs a service whose stop throws and still terminates', async () => {
    const { server, logger } = make();
    server.addService({ name: 'bad', start() {}, stop: () => Promise.reject(new Error('nope')) });
    await server.start();
    await server.shutdown();
    expect(logger.entries.some((e) => e.msg === 'service failed to stop' && e.obj.service === 'bad')).toBe(
      true,
    );
    expect(server.phase).toBe('Terminated');
  });
});

describe('Server.runForever with an injected signal source', () => {
  it('SIGTERM: graceful stop, then exit 0; handlers are removed', async () => {
    const signals = new EventEmitter();
    const { server, exits, logger } = make(null, undefined, { signals });
    const echo = server.addService(echoService());
    void server.runForever();
    await new Promise<void>((resolve) => server.onPhase((p) => p === 'Running' && resolve()));
    expect(signals.listenerCount('SIGTERM')).toBe(1);
    const held = await connect({ port: tcpPort(echo) });
    await roundTrip(held, 'x');
    signals.emit('SIGTERM');
    expect(await roundTrip(held, 'in flight')).toBe('in flight');
    expect(exits).toEqual([]);
    const terminated = new Promise<void>((resolve) => server.onPhase((p) => p === 'Terminated' && resolve()));
    held.end();
    await terminated;
    await waitFor(() => exits.length > 0, { message: 'the server to exit' });
    expect(exits).toEqual([0]);
    expect(signals.listenerCount('SIGTERM')).toBe(0);
    expect(logger.entries.map((e) => e.msg)).toContain('SIGTERM received, gracefully exiting');
  });

  it('SIGINT: fast stop; SIGQUIT with no new process waiting: the hand-over fails, then graceful', async () => {
    for (const sig of ['SIGINT', 'SIGQUIT'] as const) {
      const signals = new EventEmitter();
      const conf = new ServerConf({
        upgradeSock: join(tmpdir(), `pingora-ts-nobody-${process.pid}.sock`),
        upgradeSockConnectAcceptMaxRetries: 0,
      });
      const { server, exits, logger } = make(null, conf, { signals });
      const echo = server.addService(echoService());
      void server.runForever();
      await new Promise<void>((resolve) => server.onPhase((p) => p === 'Running' && resolve()));
      const held = await connect({ port: tcpPort(echo) });
      const closed = readUntilClose(held);
      signals.emit(sig);
      if (sig === 'SIGQUIT') {
        await waitFor(() => server.shutdownWatch.shuttingDown, { message: 'the shutdown to start' });
        expect(server.shutdownWatch.graceful).toBe(true);
        held.end();
      } else {
        expect(server.shutdownWatch.graceful).toBe(false);
      }
      await closed;
      await waitFor(() => exits.length > 0, { message: 'the server to exit' });
      expect(exits).toEqual([0]);
      if (sig === 'SIGQUIT') {
        // Without the addon the hand-over is refused up front; with it, nobody listens on the socket.
        expect(
          logger.entries.some(
            (e) =>
              e.level === 'error' &&
              /native addon of @pingora-ts\/core is not built|sending listening sockets to .* failed/.test(
                e.msg ?? '',
              ),
          ),
        ).toBe(true);
      }
    }
  });

  it('exits 1 when the services cannot start', async () => {
    const signals = new EventEmitter();
    const { server, exits, logger } = make(null, undefined, { signals });
    server.addService({ name: 'broken', start: () => Promise.reject(new Error('no')), stop() {} });
    void server.runForever();
    await waitFor(() => exits.length > 0, { message: 'the server to exit' });
    expect(exits).toEqual([1]);
    expect(logger.entries.some((e) => e.level === 'fatal')).toBe(true);
    expect(signals.listenerCount('SIGTERM')).toBe(0);
  });
});
