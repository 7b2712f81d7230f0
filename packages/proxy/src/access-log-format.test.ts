import { describe, expect, it } from 'vitest';
import { type AccessLogRecord, formatAccessLog } from './access-log.js';

const base: AccessLogRecord = {
  method: 'GET',
  path: '/',
  status: 200,
  bytesSent: 11,
  bytesReceived: 0,
  client: undefined,
  upstream: '127.0.0.1:80',
  upstreamReused: true,
  upstreamConnect: 0,
  upstreamTlsHandshake: 0,
  upstreamFirstByte: undefined,
  upstreamTotal: undefined,
  cache: undefined,
  cacheLockWait: undefined,
  total: 0,
  retries: 0,
  aborted: false,
  error: undefined,
};

// What durations looked like when they were written with toFixed (2, 1 or 0 decimals by size).
const expected = (n: number) => `${n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : n.toFixed(0)}ms`;
const timeOf = (total: number) => /time=(\S+)/.exec(formatAccessLog({ ...base, total }))![1];

describe('formatAccessLog durations', () => {
  it('writes 2, 1 or 0 decimals by size, as toFixed does, carries included', () => {
    const cases = [
      0, 0.001, 0.004, 0.006, 0.05, 1.5, 3.14, 9.994, 9.996, 10, 12.34, 99.94, 99.96, 100, 123.5, 65_432.1,
    ];
    for (const n of cases) expect(timeOf(n)).toBe(expected(n));
    expect(timeOf(9.996)).toBe('10.00ms');
    expect(timeOf(99.96)).toBe('100.0ms');
  });

  it('matches toFixed wherever the value is not a decimal tie', () => {
    let seed = 7;
    const next = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return (seed / 2 ** 31) * 300;
    };
    for (let i = 0; i < 5_000; i++) {
      const n = next();
      const scaled = n * (n < 10 ? 100 : n < 100 ? 10 : 1);
      if (Math.abs(scaled - Math.floor(scaled) - 0.5) < 1e-6) continue;
      expect(timeOf(n)).toBe(expected(n));
    }
  });

  it('rounds a decimal tie up (toFixed went by the binary value: 8.215 gave 8.21)', () => {
    // ms() keeps three decimals, so ties are common in access lines.
    expect(timeOf(8.215)).toBe('8.22ms');
    expect(timeOf(0.125)).toBe('0.13ms');
    expect(timeOf(12.25)).toBe('12.3ms');
  });

  it('keeps the old form for values no clock gives (negative, NaN)', () => {
    expect(timeOf(-0.5)).toBe('-0.50ms');
    expect(timeOf(Number.NaN)).toBe('NaNms');
  });
});
