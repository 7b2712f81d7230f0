import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger, defaultLogger, type Logger, levelEnabled, noopLogger } from './logger.js';

const dir = mkdtempSync(join(tmpdir(), 'pingora-log-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  vi.unstubAllEnvs();
});

function records(path: string): Array<Record<string, unknown>> {
  return readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('createLogger', () => {
  it('writes JSON lines at or above the level to the error_log file, creating its directory', () => {
    const path = join(dir, 'sub', 'a.log');
    const log = createLogger({ level: 'warn', errorLog: path });
    log.info('hidden');
    log.warn({ port: 1 }, 'shown');
    log.child({ service: 'echo' }).error('child');
    const out = records(path);
    expect(out.map((r) => r.msg)).toEqual(['shown', 'child']);
    expect(out[0]).toMatchObject({ level: 40, port: 1 });
    expect(out[1]).toMatchObject({ level: 50, service: 'echo' });
  });

  it('takes the level from PINGORA_LOG_LEVEL, defaulting to info', () => {
    vi.stubEnv('PINGORA_LOG_LEVEL', 'debug');
    expect(createLogger({ errorLog: join(dir, 'b.log') }).level).toBe('debug');
    vi.stubEnv('PINGORA_LOG_LEVEL', undefined);
    expect(createLogger({ errorLog: join(dir, 'c.log') }).level).toBe('info');
  });

  it('falls back to info with a warning for an unknown level', () => {
    const path = join(dir, 'd.log');
    const log = createLogger({ level: 'verbose', errorLog: path });
    expect(log.level).toBe('info');
    expect(records(path)[0]).toMatchObject({ level: 40, msg: 'unknown log level, using info' });
  });

  it('adds base bindings to every record', () => {
    const path = join(dir, 'e.log');
    createLogger({ errorLog: path, base: { name: 'proxy' } }).info('x');
    expect(records(path)[0]).toMatchObject({ name: 'proxy', msg: 'x' });
  });

  it('defaultLogger() is one shared instance', () => {
    expect(defaultLogger()).toBe(defaultLogger());
  });
});

describe('levelEnabled', () => {
  it('uses isLevelEnabled when present', () => {
    const log = createLogger({ level: 'warn', errorLog: join(dir, 'f.log') });
    expect(levelEnabled(log, 'debug')).toBe(false);
    expect(levelEnabled(log, 'error')).toBe(true);
  });

  it('compares levels for a logger without isLevelEnabled', () => {
    const minimal: Logger = { ...noopLogger, level: 'info', isLevelEnabled: undefined };
    delete (minimal as { isLevelEnabled?: unknown }).isLevelEnabled;
    expect(levelEnabled(minimal, 'debug')).toBe(false);
    expect(levelEnabled(minimal, 'info')).toBe(true);
    expect(levelEnabled({ ...minimal, level: 'silent' }, 'fatal')).toBe(false);
    expect(levelEnabled({ ...minimal, level: 'custom' }, 'fatal')).toBe(false);
  });

  it('noopLogger is silent and its child is itself', () => {
    expect(levelEnabled(noopLogger, 'fatal')).toBe(false);
    expect(noopLogger.child({ a: 1 })).toBe(noopLogger);
    expect(() => noopLogger.error({ a: 1 }, 'x')).not.toThrow();
  });
});
