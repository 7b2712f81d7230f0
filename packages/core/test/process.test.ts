/**
 * Signals and daemon mode, end to end: the fixture server runs in its own Node process (tsx, on
 * workspace sources) and the test talks to it over loopback TCP.
 */
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processAlive, waitFor } from '@pingora-ts/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { connect, readUntilClose, refused, roundTrip } from './helpers.js';
import { type Fixture, runFixture, untilOutput } from './subprocess.js';

const dir = mkdtempSync(join(tmpdir(), 'pingora-proc-'));
const daemons: number[] = [];

afterAll(() => {
  for (const pid of daemons) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
  rmSync(dir, { recursive: true, force: true });
});

const run = (args: string[]): Fixture => runFixture('echo-server.ts', args);

describe('SIGTERM on a running server (subprocess)', () => {
  it('stops accepting, lets the open connection finish, then exits 0', async () => {
    const f = run([]);
    const { child, stdout, stderr } = f;
    const [, port] = await untilOutput(f, stdout, /PORT (\d+)/);
    const held = await connect({ port: Number(port) });
    expect(await roundTrip(held, 'hello')).toBe('hello');
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await untilOutput(f, stderr, /SIGTERM received, gracefully exiting/);
    await untilOutput(f, stderr, /"open":1,"msg":"stopped accepting"/);
    expect(await refused(Number(port))).toBe(true);
    expect(await roundTrip(held, 'still served')).toBe('still served');
    expect(child.exitCode).toBeNull();
    const closed = readUntilClose(held);
    held.end();
    await closed;
    const [code, signal] = await exited;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(stderr()).toContain('All services stopped, exiting');
  });

  it('SIGINT cuts an open connection and exits 0', async () => {
    const f = run([]);
    const { child, stdout } = f;
    const [, port] = await untilOutput(f, stdout, /PORT (\d+)/);
    const held = await connect({ port: Number(port) });
    await roundTrip(held, 'x');
    const closed = readUntilClose(held);
    const exited = once(child, 'exit');
    child.kill('SIGINT');
    await closed;
    const [code] = await exited;
    expect(code).toBe(0);
  });

  it('-t validates the conf and exits 0; a bad conf exits non-zero naming the key', async () => {
    const good = join(dir, 'good.yaml');
    writeFileSync(good, 'version: 1\nthreads: 2\n');
    const t = run(['-t', '-c', good]);
    const [code] = await once(t.child, 'exit');
    expect(code).toBe(0);
    expect(t.stderr()).toBe(`pingora-ts: configuration file ${good} test is successful\n`);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'version: 1\nthreds: 2\n');
    const b = run(['-t', '-c', bad]);
    const [badCode] = await once(b.child, 'exit');
    expect(badCode).not.toBe(0);
    expect(b.stderr()).toContain(`${bad}:2: threds: unknown key (did you mean "threads"?)`);
  });
});

describe('daemon mode (subprocess)', () => {
  it('relaunches detached, writes the pid file (keeping the old one), serves, and stops on SIGTERM', async () => {
    const pidFile = join(dir, 'p.pid');
    const errorLog = join(dir, 'logs', 'error.log');
    writeFileSync(pidFile, '12345');
    const conf = join(dir, 'daemon.yaml');
    writeFileSync(
      conf,
      [
        'version: 1',
        `pid_file: ${pidFile}`,
        `error_log: ${errorLog}`,
        'daemon_wait_for_ready: true',
        'daemon_ready_timeout_seconds: 60',
      ].join('\n'),
    );
    const launcher = run(['-d', '-c', conf]);
    const [code] = await once(launcher.child, 'exit');
    expect(code).toBe(0);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    daemons.push(pid);
    expect(pid).not.toBe(launcher.child.pid);
    expect(processAlive(pid)).toBe(true);
    expect(readFileSync(`${pidFile}.old`, 'utf8')).toBe('12345');
    // Ready was reported after the services started, so the port line is already in the log.
    const port = Number(/PORT (\d+)/.exec(readFileSync(errorLog, 'utf8'))?.[1]);
    const c = await connect({ port });
    expect(await roundTrip(c, 'daemon echo')).toBe('daemon echo');
    c.end();
    await readUntilClose(c);
    process.kill(pid, 'SIGTERM');
    // Not a timing assertion: a bounded wait for another process to exit.
    await waitFor(() => !processAlive(pid), { interval: 20, message: `daemon ${pid} to exit` });
    expect(readFileSync(errorLog, 'utf8')).toContain('All services stopped, exiting');
  });

  it('the launcher exits 1 when the daemon cannot write its pid file', async () => {
    const errorLog = join(dir, 'logs', 'fail.log');
    const conf = join(dir, 'fail.yaml');
    writeFileSync(
      conf,
      [
        `pid_file: ${join(dir, 'missing-dir', 'p.pid')}`,
        `error_log: ${errorLog}`,
        'daemon_wait_for_ready: true',
      ].join('\n'),
    );
    const launcher = run(['-d', '-c', conf]);
    const [code] = await once(launcher.child, 'exit');
    expect(code).toBe(1);
    expect(readFileSync(errorLog, 'utf8')).toContain('cannot daemonize');
  });

  const asRoot = process.platform === 'linux' && process.getuid?.() === 0;
  it.skipIf(!asRoot)(
    'switches to the configured user and group after writing the pid file (root only)',
    async () => {
      const pidFile = join(dir, 'u.pid');
      const errorLog = join(dir, 'logs', 'user.log');
      const conf = join(dir, 'user.yaml');
      writeFileSync(
        conf,
        [
          `pid_file: ${pidFile}`,
          `error_log: ${errorLog}`,
          'daemon: true',
          'daemon_wait_for_ready: true',
          'user: nobody',
          'group: nogroup',
        ].join('\n'),
      );
      const launcher = run(['-c', conf]);
      const [code] = await once(launcher.child, 'exit');
      expect(code).toBe(0);
      const pid = Number(readFileSync(pidFile, 'utf8'));
      daemons.push(pid);
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      expect(status).toMatch(/^Uid:\t65534\t65534\t65534\t65534$/m);
      expect(status).toMatch(/^Gid:\t65534\t65534\t65534\t65534$/m);
      expect(status).toMatch(/^Groups:\t65534 ?$/m);
      const port = Number(/PORT (\d+)/.exec(readFileSync(errorLog, 'utf8'))?.[1]);
      const c = await connect({ port });
      expect(await roundTrip(c, 'as nobody')).toBe('as nobody');
      c.destroy();
      process.kill(pid, 'SIGTERM');
      await waitFor(() => !processAlive(pid), { interval: 20, message: `daemon ${pid} to exit` });
    },
  );
});
