import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorType, PingoraError } from '@pingora-ts/error';
import { afterAll, describe, expect, it } from 'vitest';
import { ServerConf } from './conf.js';

const dir = mkdtempSync(join(tmpdir(), 'pingora-conf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

function failure(fn: () => unknown): PingoraError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(PingoraError);
    return e as PingoraError;
  }
  throw new Error('expected a throw');
}

describe('ServerConf defaults', () => {
  it('matches Pingora (version 1 from default())', () => {
    const c = ServerConf.default();
    expect(c).toMatchObject({
      version: 1,
      daemon: false,
      errorLog: undefined,
      pidFile: '/tmp/pingora.pid',
      upgradeSock: '/tmp/pingora_upgrade.sock',
      user: undefined,
      group: undefined,
      threads: 1,
      listenerTasksPerFd: 1,
      workStealing: true,
      caFile: undefined,
      gracePeriodSeconds: 300,
      gracefulShutdownTimeoutSeconds: 5,
      clientBindToIpv4: [],
      clientBindToIpv6: [],
      upstreamKeepalivePoolSize: 128,
      upstreamDebugSslKeylog: false,
      maxRetries: 16,
      upgradeSockConnectAcceptMaxRetries: 5,
      maxBlockingThreads: undefined,
      daemonWaitForReady: false,
      daemonReadyTimeoutSeconds: 600,
      daemonNotifyTimeoutSeconds: 60,
      s2nConfigCacheSize: 10,
      extra: {},
    });
  });

  it('gives version 0 for a file without version, and defaults for an empty file', () => {
    expect(ServerConf.fromYaml('threads: 2').version).toBe(0);
    const empty = ServerConf.fromYaml('');
    expect(empty.version).toBe(0);
    expect(empty.gracePeriodSeconds).toBe(300);
  });

  it('reads every kind of key from a file', () => {
    const p = file(
      'full.yaml',
      [
        'version: 1',
        'daemon: true',
        'error_log: /var/log/p.log',
        'pid_file: /run/p.pid',
        'threads: 4',
        'grace_period_seconds: 30',
        'graceful_shutdown_timeout_seconds: ~',
        'client_bind_to_ipv4: [10.0.0.1, 10.0.0.2]',
        'client_bind_to_ipv6: ["::1"]',
        'upstream_keepalive_pool_size: 0',
        'max_retries: 3',
        'max_blocking_threads: 8',
        'user: nobody',
      ].join('\n'),
    );
    const c = ServerConf.load(p);
    expect(c).toMatchObject({
      version: 1,
      daemon: true,
      errorLog: '/var/log/p.log',
      pidFile: '/run/p.pid',
      threads: 4,
      gracePeriodSeconds: 30,
      gracefulShutdownTimeoutSeconds: 5, // null means "unset": the default stays
      clientBindToIpv4: ['10.0.0.1', '10.0.0.2'],
      clientBindToIpv6: ['::1'],
      upstreamKeepalivePoolSize: 0,
      maxRetries: 3,
      maxBlockingThreads: 8,
      user: 'nobody',
    });
  });
});

describe('ServerConf validation', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['wrong type', 'version: 1\nthreads: four', /bad\.yaml:2: threads: expected an integer >= 1, got "four"/],
    ['out of range', 'threads: 0', /bad\.yaml:1: threads: expected an integer >= 1, got 0/],
    ['negative', 'max_retries: -1', /max_retries: expected an integer >= 0, got -1/],
    [
      'not an integer',
      'grace_period_seconds: 1.5',
      /grace_period_seconds: expected an integer >= 0, got 1.5/,
    ],
    ['bool', 'daemon: "yes"', /daemon: expected true or false, got "yes"/],
    ['string', 'pid_file: 12', /pid_file: expected a string, got 12/],
    ['null for a required string', 'pid_file: ~', /pid_file: expected a string, got null/],
    [
      'max_blocking_threads 0',
      'max_blocking_threads: 0',
      /max_blocking_threads: expected an integer >= 1, got 0/,
    ],
    ['list type', 'client_bind_to_ipv4: 10.0.0.1', /client_bind_to_ipv4: expected a list of IPv4 addresses/],
    [
      'list item',
      'client_bind_to_ipv4:\n  - 10.0.0.1\n  - "::1"',
      /bad\.yaml:3: client_bind_to_ipv4\.1: expected an IPv4 address, got "::1"/,
    ],
    ['mapping value', 'threads: { a: 1 }', /threads: expected an integer >= 1, got a mapping/],
    ['top level', '- a\n- b', /bad\.yaml:1: the top level must be a mapping/],
    ['yaml syntax', 'threads: 1\n  bad: [', /bad\.yaml:\d+: invalid YAML/],
    ['duplicate key', 'threads: 1\nthreads: 2', /bad\.yaml:2: invalid YAML/],
  ];
  for (const [name, yaml, message] of cases) {
    it(`rejects ${name}, naming the file, line and key`, () => {
      const p = file('bad.yaml', yaml);
      const e = failure(() => ServerConf.load(p));
      expect(e.type).toBe(ErrorType.InternalError);
      expect(e.message).toContain(p);
      expect(e.message).toMatch(message);
    });
  }

  it('reports the first problem as the whole message, one line, as nginx does', () => {
    const e = failure(() => ServerConf.fromYaml('threads: 0\nmax_retries: x\n', 'c.yaml'));
    expect(e.message).toBe('c.yaml:1: threads: expected an integer >= 1, got 0');
    expect(e).toBeInstanceOf(PingoraError);
  });

  it('gives the exact line for a misspelt key', () => {
    const e = failure(() => ServerConf.fromYaml('version: 1\ndaemon: false\ntreads: 2\n', 'conf.yaml'));
    expect(e.message).toBe('conf.yaml:3: treads: unknown key (did you mean "threads"?)');
  });

  it('keeps YAML syntax errors to one line', () => {
    const e = failure(() => ServerConf.fromYaml('threads: 1\n  bad: [', 'y.yaml'));
    expect(e.message).toMatch(/^y\.yaml:\d+: invalid YAML: [^\n]+$/);
  });

  it('labels YAML text without a path as <yaml>', () => {
    expect(failure(() => ServerConf.fromYaml('threads: 0')).message).toContain('<yaml>:1: threads');
  });

  it('throws FileReadError naming a file that cannot be read', () => {
    const missing = join(dir, 'missing.yaml');
    const e = failure(() => ServerConf.load(missing));
    expect(e.type).toBe(ErrorType.FileReadError);
    expect(e.message).toBe(`${missing}: cannot read: no such file or directory (ENOENT)`);
    expect((e.cause as NodeJS.ErrnoException).code).toBe('ENOENT');
  });
});

describe('ServerConf unknown keys', () => {
  it('rejects an unknown key and suggests the intended one', () => {
    const p = file('typo.yaml', 'version: 1\ngrace_period: 30\n');
    const e = failure(() => ServerConf.load(p));
    expect(e.message).toBe(`${p}:2: grace_period: unknown key (did you mean "grace_period_seconds"?)`);
  });

  it('suggests the snake_case key for a camelCase one', () => {
    const e = failure(() => ServerConf.fromYaml('maxRetries: 3'));
    expect(e.message).toContain('did you mean "max_retries"?');
  });

  it('accepts the application keys listed in extraKeys and keeps them in extra', () => {
    const yaml = 'version: 1\nmy_app:\n  routes: [a, b]\n  port: 80\n';
    const c = ServerConf.fromYaml(yaml, 'app.yaml', { extraKeys: ['my_app'] });
    expect(c.extra).toEqual({ my_app: { routes: ['a', 'b'], port: 80 } });
    // Listing one key does not open the door to others.
    const e = failure(() => ServerConf.fromYaml(`${yaml}other: 1\n`, 'app.yaml', { extraKeys: ['my_app'] }));
    expect(e.message).toContain('app.yaml:5: other: unknown key');
  });

  it('accepts every unknown key with allowUnknownKeys (Pingora behaviour), still validating known ones', () => {
    const c = ServerConf.fromYaml('a: 1\nb: [x]\n', undefined, { allowUnknownKeys: true });
    expect(c.extra).toEqual({ a: 1, b: ['x'] });
    expect(() => ServerConf.fromYaml('a: 1\nthreads: 0', undefined, { allowUnknownKeys: true })).toThrow(
      /threads/,
    );
  });
});
