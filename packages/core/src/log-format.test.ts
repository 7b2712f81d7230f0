import { afterEach, describe, expect, it, vi } from 'vitest';
import { formatLogRecord, formatLogTime, prettyDestination } from './log-format.js';
import { createLogger } from './logger.js';
import { SocketAddr } from './socket-addr.js';

afterEach(() => {
  vi.unstubAllEnvs();
});

// A fixed instant, formatted with the same local-time rule the formatter uses.
const T = new Date(2026, 11, 2, 5, 48, 1, 123).getTime();

describe('formatLogRecord', () => {
  it('prints time, padded level, message, then fields after two spaces', () => {
    const line = formatLogRecord({
      level: 40,
      time: T,
      pid: 1,
      hostname: 'h',
      msg: 'origin-b becomes unhealthy',
      backend: '127.0.0.1:7001',
    });
    expect(line).toBe('05:48:01.123 WARN  origin-b becomes unhealthy  backend=127.0.0.1:7001');
    expect(formatLogRecord({ level: 30, time: T, msg: 'ready' })).toBe('05:48:01.123 INFO  ready');
  });

  it('quotes strings with spaces, shows an error by its message, objects as JSON', () => {
    const line = formatLogRecord({
      level: 50,
      time: T,
      msg: 'failed',
      service: 'BG health check',
      err: { type: 'Error', message: 'boom', stack: 'Error: boom\n    at x' },
      limits: { ms: 5 },
      ok: false,
      empty: '',
    });
    expect(line).toBe(
      '05:48:01.123 ERROR failed  service="BG health check" err="boom" limits={"ms":5} ok=false empty=""',
    );
  });

  it('formats local time with zero padding', () => {
    expect(formatLogTime(new Date(2026, 0, 1, 1, 2, 3, 4).getTime())).toBe('01:02:03.004');
  });

  it('passes a line that is not JSON through', () => {
    const out: string[] = [];
    prettyDestination((l) => out.push(l)).write('not json\n');
    expect(out).toEqual(['not json\n']);
  });
});

describe('createLogger pretty', () => {
  it('writes readable lines when forced on, with addresses as text', () => {
    const out: string[] = [];
    const log = createLogger({ pretty: true, destination: (l) => out.push(l) });
    log.child({ service: 'lb' }).warn({ backend: SocketAddr.inet('::1', 7001) }, 'becomes unhealthy');
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(
      /^\d\d:\d\d:\d\d\.\d{3} WARN {2}becomes unhealthy {2}service=lb backend=\[::1\]:7001\n$/,
    );
  });

  it('writes JSON to a function or a non-terminal unless asked, and follows PINGORA_LOG_FORMAT', () => {
    const out: string[] = [];
    createLogger({ destination: (l) => out.push(l) }).info({ a: 1 }, 'json');
    expect(JSON.parse(out[0]!)).toMatchObject({ level: 30, msg: 'json', a: 1 });
    vi.stubEnv('PINGORA_LOG_FORMAT', 'pretty');
    createLogger({ destination: (l) => out.push(l) }).info('readable');
    expect(out[1]).toMatch(/ INFO {2}readable\n$/);
  });
});
