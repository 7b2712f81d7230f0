/** Runs wrk and reads its summary. */
import { execFileSync } from 'node:child_process';

/** What one wrk run reported. Latency percentiles are NaN unless `--latency` was given. */
export interface WrkResult {
  rps: number;
  requests: number;
  /** ms */
  p50: number;
  /** ms */
  p99: number;
  /** wrk's "Non-2xx …" and "Socket errors …" lines, joined; empty when there were none. */
  errors: string;
}

/** A wrk duration (`812.00us`, `1.20ms`, `2.01s`) in ms; NaN when it is not one. */
export function toMs(v: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(v.trim());
  if (!m) return Number.NaN;
  const n = Number(m[1]);
  return m[2] === 'us' ? n / 1000 : m[2] === 's' ? n * 1000 : n;
}

/** Reads the summary of wrk's output. */
export function parseWrk(out: string): WrkResult {
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]),
    requests: Number(/(\d+) requests in/.exec(out)?.[1]),
    // Anchored: "+/- Stdev" columns such as "68.50%" also contain "50%".
    p50: toMs(/^\s+50%\s+(\S+)$/m.exec(out)?.[1] ?? ''),
    p99: toMs(/^\s+99%\s+(\S+)$/m.exec(out)?.[1] ?? ''),
    errors: out.match(/(Non-2xx.*|Socket errors.*)/g)?.join('; ') ?? '',
  };
}

/** Runs `wrk <args> <url>` to completion and parses its summary. */
export function wrk(args: string[], url: string): WrkResult {
  return parseWrk(execFileSync('wrk', [...args, url], { encoding: 'utf8' }));
}
