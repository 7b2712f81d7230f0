/**
 * A real `redis-server` for the tests: spawned on a free loopback port with persistence off, awaited
 * until it answers PING, and stoppable and restartable on the same port (for the fault tests).
 *
 * A missing `redis-server` skips the suites that need it with a visible message, except under
 * `PINGORA_TS_REQUIRE_PEERS=1`, where they run and fail. `PINGORA_TS_REDIS_URL` points the tests
 * that do not stop the server at an existing one instead.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import { freePort, waitFor } from '@pingora-ts/test-utils';
import { Redis, type RedisOptions } from 'ioredis';

const BINARY = process.env.PINGORA_TS_REDIS_SERVER ?? 'redis-server';

/** Whether the redis tests run: redis-server is installed, or required (then they fail loudly). */
export function redisAvailable(): boolean {
  if (process.env.PINGORA_TS_REDIS_URL) return true;
  if (spawnSync(BINARY, ['--version'], { stdio: 'ignore' }).status === 0) return true;
  if (process.env.PINGORA_TS_REQUIRE_PEERS === '1') {
    console.error('redis-server is not installed and PINGORA_TS_REQUIRE_PEERS=1: the redis tests fail');
    return true;
  }
  console.warn('skipping the redis tests: redis-server is not installed (PINGORA_TS_REQUIRE_PEERS=1 fails)');
  return false;
}

/** Sends PING and resolves true on `+PONG`; false on any error or after `timeoutMs`. */
function ping(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let reply = '';
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d) => {
      reply += d.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
    socket.on('error', () => done(false));
  });
}

/** One redis-server process (or an external server named by `PINGORA_TS_REDIS_URL`). */
export class TestRedis {
  private child: ChildProcess | undefined;
  private readonly clients: Redis[] = [];

  private constructor(
    readonly port: number,
    readonly host: string,
    readonly external: boolean,
  ) {}

  /**
   * Starts a server on a free port. `external: true` allows using `PINGORA_TS_REDIS_URL` (tests
   * that never stop the server).
   */
  static async start(options: { allowExternal?: boolean } = {}): Promise<TestRedis> {
    const url = process.env.PINGORA_TS_REDIS_URL;
    if (url && options.allowExternal === true) {
      const u = new URL(url);
      return new TestRedis(Number(u.port || 6379), u.hostname, true);
    }
    const server = new TestRedis(await freePort(), '127.0.0.1', false);
    await server.restart();
    return server;
  }

  /** Whether the process is running. */
  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** (Re)starts the server on its port and waits until it answers PING. */
  async restart(): Promise<void> {
    if (this.external) return;
    if (this.running) return;
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
    const child = spawn(BINARY, [...args, '--loglevel', 'warning'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d) => {
      stderr += String(d);
    });
    child.on('error', (e) => {
      stderr += String(e);
    });
    this.child = child;
    await waitFor(
      async () => {
        if (child.exitCode !== null || stderr.includes('ENOENT'))
          throw new Error(`redis-server did not start: ${stderr}`);
        return ping(this.port);
      },
      { timeout: 20_000, interval: 20, message: `redis-server on port ${this.port} to answer PING` },
    );
  }

  /** Stops the server (SIGKILL: the fault tests want it gone at once) and waits for the exit. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child === undefined || !this.running) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGKILL');
    child.kill('SIGCONT');
    await exited;
    await waitFor(async () => !(await ping(this.port, 200)), { message: 'redis-server to stop answering' });
  }

  /** Freezes the server (SIGSTOP): connections stay open but nothing answers, as in a hung Redis. */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  /** Thaws a server frozen by {@link pause}. */
  resume(): void {
    this.child?.kill('SIGCONT');
  }

  /**
   * A new ioredis connection configured as a proxy should configure it: commands fail fast while
   * the server is unreachable, and it reconnects by itself.
   */
  client(options: RedisOptions = {}): Redis {
    const client = new Redis({
      host: this.host,
      port: this.port,
      lazyConnect: false,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: 1_000,
      retryStrategy: () => 50,
      ...options,
    });
    // A refused reconnect is reported here; the components under test see it as a failed call.
    client.on('error', () => undefined);
    this.clients.push(client);
    return client;
  }

  /** A client that is connected (ready) before it is returned. */
  async readyClient(options: RedisOptions = {}): Promise<Redis> {
    const client = this.client(options);
    if (client.status !== 'ready') await new Promise<void>((r) => client.once('ready', () => r()));
    return client;
  }

  /** Closes every client and stops the server. */
  async close(): Promise<void> {
    for (const c of this.clients.splice(0)) c.disconnect();
    await this.stop();
  }
}
