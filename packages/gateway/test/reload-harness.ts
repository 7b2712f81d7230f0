/**
 * Shared by the reload tests: an origin in the test process, a gateway file per configuration
 * generation (each tags its answers with `x-gen`), and the events read from the binary's JSON
 * log (successor pids, listening lines).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '@pingora-ts/test-utils';
import type { Run } from './cli-process.js';

/** A node:http origin on 127.0.0.1 answering 200 to everything; resolves with its port and a stop. */
export async function startOrigin(): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Where a generation's file is written and what it proxies. */
export interface GenFile {
  readonly path: string;
  readonly listen: number;
  readonly origin: number;
  readonly threads: number;
}

/** The gateway file `path` for generation `gen`: every answer carries `x-gen: <gen>`. */
export function writeGen(f: GenFile, gen: number): void {
  writeFileSync(
    f.path,
    [
      'server:',
      `  threads: ${f.threads}`,
      '  grace_period_seconds: 10',
      '  graceful_shutdown_timeout_seconds: 5',
      `listeners: [127.0.0.1:${f.listen}]`,
      'upstreams:',
      `  origin: { backends: [127.0.0.1:${f.origin}] }`,
      'routes:',
      '  - upstream: origin',
      `    response_headers: { set: { x-gen: "${gen}" } }`,
      'observability:',
      // One log line per request would bury the events the test reads.
      '  access_log: false',
      '',
    ].join('\n'),
  );
}

/** A broken file at `path`: a misspelt key and an unknown upstream. */
export function writeInvalid(path: string, listen: number): string[] {
  writeFileSync(path, `listners: [127.0.0.1:${listen}]\nroutes:\n  - upstream: orign\n`);
  return [
    `${path}:1:1: listners: unknown key (did you mean "listeners"?)`,
    `${path}:3:15: routes[0].upstream: no upstream named "orign" (none is defined)`,
  ];
}

/** Pids the binary's processes named as successors, in order. */
export function successors(run: Run): number[] {
  return [...run.stderr().matchAll(/"successor":(\d+)/g)].map((m) => Number(m[1]));
}

/** Pids that logged `listening`, in order (the main process, or each worker). */
export function listeningPids(run: Run): number[] {
  return [...run.stderr().matchAll(/\{"level":30,"time":\d+,"pid":(\d+)[^\n]*"msg":"listening"\}/g)].map(
    (m) => Number(m[1]),
  );
}

/** Waits until the binary's stderr (its successors' too) contains `text`. */
export function untilLogged(run: Run, text: string, timeout = 60_000): Promise<void> {
  return waitFor(() => run.stderr().includes(text), { timeout, message: `stderr to contain ${text}` });
}

/** A file path in `dir` for one test run. */
export function genFile(dir: string, name: string, listen: number, origin: number, threads: number): GenFile {
  return { path: join(dir, `${name}.yaml`), listen, origin, threads };
}
