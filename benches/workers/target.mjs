/**
 * pingora-ts proxy run by `Server.runForever()` with `threads` workers (1 = one process, no
 * workers), as an operator runs it.   target.mjs <port> <originPort> <threads>
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpPeer, noopLogger, Opt, Server } from '@pingora-ts/core';
import { httpProxyService } from '@pingora-ts/proxy';

const [port, originPort, threads] = process.argv.slice(2).map(Number);
const conf = join(tmpdir(), `pingora-ts-bench-workers-${port}.yaml`);
writeFileSync(conf, `version: 1\nthreads: ${threads}\ngrace_period_seconds: 1\n`);
const server = new Server(new Opt({ conf }), undefined, { logger: noopLogger });
server.bootstrap();
const addr = `127.0.0.1:${originPort}`;
const proxy = httpProxyService(
  {},
  { upstreamPeer: () => new HttpPeer(addr, false, '') },
  { logger: noopLogger },
);
proxy.addTcp(`127.0.0.1:${port}`);
server.addService(proxy);
await server.runForever();
