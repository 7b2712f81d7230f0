/**
 * Benchmark helpers for the ketama benches: `nsPerOp` (from @pingora-ts/test-utils), number and
 * duration formatting, markdown tables, and deterministic keys and addresses.
 */
export { nsPerOp } from '@pingora-ts/test-utils';

/** `1234567` -> `1.23 M`, for ops/s columns. */
export function human(x: number): string {
  if (x >= 1e9) return `${(x / 1e9).toFixed(2)} G`;
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)} M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)} k`;
  return x.toFixed(0);
}

/** Duration for tables: µs below 1 ms, ms otherwise. */
export function dur(ns: number): string {
  if (ns < 1e3) return `${ns.toFixed(0)} ns`;
  if (ns < 1e6) return `${(ns / 1e3).toFixed(1)} µs`;
  return `${(ns / 1e6).toFixed(2)} ms`;
}

/** Print a markdown table. */
export function table(header: string[], rows: string[][]): void {
  console.log(`| ${header.join(' | ')} |`);
  console.log(`|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`);
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
  console.log('');
}

/** Deterministic pseudo-random keys like request paths. */
export function makeKeys(n: number, seed = 1): string[] {
  let a = seed >>> 0;
  const next = () => {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    return a;
  };
  return Array.from(
    { length: n },
    () => `/${next().toString(16)}${next().toString(16)}/${next().toString(36)}`,
  );
}

/** `n` distinct IPv4 socket addresses. */
export function makeAddrs(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:8080`);
}
