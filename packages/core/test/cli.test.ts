/**
 * What a person running a pingora-ts server sees, in a real process: a bad conf or a port that
 * cannot be bound is one line on stderr and exit 1; `-t` says one line and exits 0; Ctrl-C and
 * SIGTERM exit 0, with a background task running, and no warning about it.
 */
import { readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { linesOf, runFixture, untilOutput } from './subprocess.js';

const dir = mkdtempSync(join(tmpdir(), 'pingora-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function conf(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe('configuration errors on the command line', () => {
  it('-t with a misspelt key: exactly one line naming file, line and key, exit 1', async () => {
    const bad = conf('typo.yaml', 'version: 1\ndaemon: false\ntreads: 2\n');
    const f = runFixture('echo-server.ts', ['-t', '-c', bad]);
    expect(await f.exited).toEqual({ code: 1, signal: null });
    expect(linesOf(f.stderr())).toEqual([`${bad}:3: treads: unknown key (did you mean "threads"?)`]);
    expect(f.stdout()).toBe('');
  });

  it('-c with a wrong value, and with a missing file: one line each, exit 1', async () => {
    const bad = conf('range.yaml', 'threads: 0\n');
    const f = runFixture('echo-server.ts', ['-c', bad]);
    expect(await f.exited).toEqual({ code: 1, signal: null });
    expect(linesOf(f.stderr())).toEqual([`${bad}:1: threads: expected an integer >= 1, got 0`]);
    const missing = join(dir, 'missing.yaml');
    const m = runFixture('echo-server.ts', ['-c', missing]);
    expect(await m.exited).toEqual({ code: 1, signal: null });
    expect(linesOf(m.stderr())).toEqual([`${missing}: cannot read: no such file or directory (ENOENT)`]);
  });

  it('PINGORA_TS_DEBUG=1 adds the stack after the same first line', async () => {
    const bad = conf('debug.yaml', 'treads: 2\n');
    const f = runFixture('echo-server.ts', ['-t', '-c', bad], { PINGORA_TS_DEBUG: '1' });
    expect((await f.exited).code).toBe(1);
    const lines = linesOf(f.stderr());
    expect(lines[0]).toBe(`${bad}:1: treads: unknown key (did you mean "threads"?)`);
    expect(lines.some((l) => /^\s+at /.test(l))).toBe(true);
  });

  it('-t on a good conf: one line saying so, exit 0', async () => {
    const good = conf('good.yaml', 'version: 1\nthreads: 2\n');
    const f = runFixture('echo-server.ts', ['-t', '-c', good]);
    expect(await f.exited).toEqual({ code: 0, signal: null });
    expect(linesOf(f.stderr())).toEqual([`pingora-ts: configuration file ${good} test is successful`]);
  });

  it('an unknown option: the problem, then the usage, no stack, exit 1', async () => {
    const f = runFixture('echo-server.ts', ['--deamon']);
    expect((await f.exited).code).toBe(1);
    const lines = linesOf(f.stderr());
    expect(lines[0]).toBe("unknown option '--deamon'");
    expect(lines).toContain('Options:');
    expect(lines.some((l) => /^\s+at /.test(l))).toBe(false);
  });
});

/** A port some other socket holds for the duration of `fn`. */
async function withOccupiedPort<T>(fn: (port: number) => Promise<T>): Promise<T> {
  const holder = net.createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  try {
    return await fn((holder.address() as net.AddressInfo).port);
  } finally {
    await new Promise((resolve) => holder.close(resolve));
  }
}

/** stderr's JSON log records. */
function records(stderr: string): Array<Record<string, unknown>> {
  return linesOf(stderr).map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('a listener that cannot bind', () => {
  it('EADDRINUSE: one fatal line naming the address and the OS error, exit 1, no late warning', async () => {
    await withOccupiedPort(async (port) => {
      const f = runFixture('bind-server.ts', ['--', `127.0.0.1:${port}`]);
      expect(await f.exited).toEqual({ code: 1, signal: null });
      const logs = records(f.stderr());
      const bad = logs.filter((r) => (r.level as number) >= 40);
      expect(bad.map((r) => r.msg)).toEqual([
        `cannot listen on 127.0.0.1:${port}: address already in use (EADDRINUSE)`,
      ]);
      expect(bad[0]!.err).toBeUndefined(); // no stack unless PINGORA_TS_DEBUG
      expect(f.stderr()).not.toContain('still running');
    });
  });

  it('reads as one plain line when logs are readable (as on a terminal)', async () => {
    await withOccupiedPort(async (port) => {
      const f = runFixture('bind-server.ts', ['--', `127.0.0.1:${port}`], { PINGORA_LOG_FORMAT: 'pretty' });
      expect((await f.exited).code).toBe(1);
      const fatal = linesOf(f.stderr()).filter((l) => / (WARN|ERROR|FATAL) /.test(l));
      expect(fatal).toHaveLength(1);
      expect(fatal[0]).toMatch(
        new RegExp(
          `^\\d\\d:\\d\\d:\\d\\d\\.\\d{3} FATAL cannot listen on 127\\.0\\.0\\.1:${port}: address already in use \\(EADDRINUSE\\)$`,
        ),
      );
    });
  });

  const unprivileged = (() => {
    try {
      return Number(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8'));
    } catch {
      return 1024;
    }
  })();
  const canTestEacces = process.getuid?.() !== 0 && unprivileged > 80;
  it.skipIf(!canTestEacces)('EACCES: one fatal line, exit 1 (non-root only)', async () => {
    const f = runFixture('bind-server.ts', ['--', '127.0.0.1:80']);
    expect((await f.exited).code).toBe(1);
    const bad = records(f.stderr()).filter((r) => (r.level as number) >= 40);
    expect(bad.map((r) => r.msg)).toEqual(['cannot listen on 127.0.0.1:80: permission denied (EACCES)']);
  });
});

describe('signals with a background task running', () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} exits 0 without a warning`, async () => {
      const f = runFixture('bind-server.ts', []);
      await untilOutput(f, f.stdout, /PORT \d+/);
      f.child.kill(signal);
      expect(await f.exited).toEqual({ code: 0, signal: null });
      const logs = records(f.stderr());
      expect(logs.filter((r) => (r.level as number) >= 40)).toEqual([]);
      expect(logs.at(-1)?.msg).toBe('All services stopped, exiting');
    });
  }
});
