/**
 * Valid gateway files: the defaults a five-line file gets, unit conversion, schema comments, and
 * loading from disk (base directory, unreadable files, the `server` section handed to core).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { GatewayConfig } from '../schema/index.js';
import {
  formatProblem,
  GatewayConfigError,
  loadGatewayConfig,
  serverConfFromGateway,
  validateGatewayText,
} from './index.js';

const FIVE_LINES = `# yaml-language-server: $schema=../node_modules/@pingora-ts/gateway/schema/pingora-ts.schema.json
upstreams:
  app:
    backends:
      - 127.0.0.1:3000
`;

function valid(text: string): GatewayConfig {
  const result = validateGatewayText(text, 'proxy.yaml');
  if (!result.ok) throw new Error(result.problems.map(formatProblem).join('\n'));
  return result.config;
}

const dir = mkdtempSync(join(tmpdir(), 'gateway-load-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('validateGatewayText on good files', () => {
  it('gives a five-line file (one upstream, no routes) every default', () => {
    expect(valid(FIVE_LINES)).toEqual({
      version: 1,
      server: {},
      listeners: ['0.0.0.0:8080'],
      upstreams: {
        app: {
          backends: ['127.0.0.1:3000'],
          selection: 'round_robin',
          hash_key: 'path',
          tls: false,
          http2: false,
          retries: 2,
        },
      },
      routes: [],
      observability: { access_log: true, tracing: false },
    });
  });

  it('turns durations into milliseconds and sizes into bytes', () => {
    const config = valid(`upstreams:
  app:
    backends: [127.0.0.1:3000]
    timeouts: { connect: 250ms, read: 2m, idle: 1.5 }
listeners:
  - address: 127.0.0.1:8080
    max_header_size: 64KiB
    keepalive_timeout: 1h
`);
    expect(config.upstreams.app!.timeouts).toEqual({ connect: 250, read: 120_000, idle: 1_500 });
    expect(config.listeners[0]).toMatchObject({ max_header_size: 65_536, keepalive_timeout: 3_600_000 });
  });

  it('accepts a $schema key and fills route defaults', () => {
    const config = valid(`$schema: ./pingora-ts.schema.json
upstreams:
  app: { backends: [127.0.0.1:3000] }
routes:
  - match: { path_prefix: /static }
    cache: true
    upstream: app
  - upstream: app
    rate_limit: { requests: 5 }
`);
    expect(config.$schema).toBe('./pingora-ts.schema.json');
    expect(config.routes[0]).toMatchObject({ cache: true, match: { path_prefix: '/static' } });
    expect(config.routes[1]!.rate_limit).toEqual({
      requests: 5,
      per: 1_000,
      key: 'client_ip',
      store: 'local',
    });
  });
});

describe('loadGatewayConfig', () => {
  it('reads a file and reports the directory relative paths start from', () => {
    const file = join(dir, 'proxy.yaml');
    writeFileSync(file, FIVE_LINES);
    const loaded = loadGatewayConfig(file);
    expect(loaded.file).toBe(file);
    expect(loaded.baseDir).toBe(dir);
    expect(loaded.config.upstreams.app!.backends).toEqual(['127.0.0.1:3000']);
  });

  it('throws every problem, formatted one per line', () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      'upstreams:\n  app:\n    backends: [127.0.0.1:3000]\n    retries: -1\nlistners: []\n',
    );
    let error: unknown;
    try {
      loadGatewayConfig(file);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(GatewayConfigError);
    const problems = (error as GatewayConfigError).problems;
    expect(problems.map((p) => [p.line, p.column, p.path])).toEqual([
      [4, 14, 'upstreams.app.retries'],
      [5, 1, 'listners'],
    ]);
    expect((error as Error).message).toBe(
      `${file}:4:14: upstreams.app.retries: must be at least 0, got -1\n` +
        `${file}:5:1: listners: unknown key (did you mean "listeners"?)`,
    );
  });

  it('reports a missing file as one problem without a position', () => {
    const file = join(dir, 'absent.yaml');
    expect(() => loadGatewayConfig(file)).toThrow(`${file}: cannot read: no such file (ENOENT)`);
  });
});

describe('serverConfFromGateway', () => {
  it('hands the server section to core, keeping its defaults for the rest', () => {
    const config = valid(`${FIVE_LINES}server:\n  grace_period_seconds: 7\n  pid_file: /tmp/gw.pid\n`);
    const conf = serverConfFromGateway(config, 'proxy.yaml');
    expect(conf.gracePeriodSeconds).toBe(7);
    expect(conf.pidFile).toBe('/tmp/gw.pid');
    expect(conf.upgradeSock).toBe('/tmp/pingora_upgrade.sock');
    expect(conf.version).toBe(1);
  });

  it("throws core's own complaint as a problem under server", () => {
    const config = valid(FIVE_LINES);
    // Core refuses what the gateway schema would not let through: build such a value by hand.
    const bad = { ...config, server: { threads: 0 } } as GatewayConfig;
    expect(() => serverConfFromGateway(bad, 'proxy.yaml')).toThrow(GatewayConfigError);
    try {
      serverConfFromGateway(bad, 'proxy.yaml');
    } catch (err) {
      expect((err as GatewayConfigError).problems).toEqual([
        {
          file: 'proxy.yaml',
          line: 0,
          column: 0,
          path: 'server.threads',
          message: 'expected an integer >= 1, got 0',
        },
      ]);
    }
  });
});
