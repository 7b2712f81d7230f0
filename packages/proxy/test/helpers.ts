/**
 * Test fixtures: real origins, a real proxy service on port 0, and raw-socket clients for framing
 * tests. Everything listens on 127.0.0.1 and is closed by `closeAll()` after each test. The generic
 * pieces live in @pingora-ts/test-utils; this adds what needs the proxy (peers, the proxy service).
 */
import type http from 'node:http';
import { HttpPeer, HttpServer, Service, ShutdownController } from '@pingora-ts/core';
import {
  type CapturedLog,
  memoryLogger,
  request,
  startService,
  startOrigin as startTestOrigin,
  startRawOrigin as startTestRawOrigin,
  type TestOrigin,
  waitFor,
} from '@pingora-ts/test-utils';
import { HttpProxy, type HttpProxyOptions, type ProxyHttp } from '../src/index.js';

export {
  type CapturedLog,
  closeAll,
  memoryLogger,
  rawRequest,
  request,
  waitFor,
} from '@pingora-ts/test-utils';

/** An origin server; `connections` counts TCP connections it accepted. */
export interface Origin extends TestOrigin {
  peer(): HttpPeer;
}

const plainPeer = (port: number) => new HttpPeer(`127.0.0.1:${port}`, false, '');

export async function startOrigin(
  handler: http.RequestListener,
  opts: http.ServerOptions = {},
): Promise<Origin> {
  const origin = await startTestOrigin(handler, opts);
  return Object.assign(origin, { peer: () => plainPeer(origin.port) });
}

/** A raw TCP origin for framing tests: `onConnection` gets each socket. */
export async function startRawOrigin(
  onConnection: Parameters<typeof startTestRawOrigin>[0],
): Promise<{ port: number; peer(): HttpPeer }> {
  const { port } = await startTestRawOrigin(onConnection);
  return { port, peer: () => plainPeer(port) };
}

/** A proxy service on 127.0.0.1:0 running `inner`. */
export async function startProxy<Ctx>(
  inner: ProxyHttp<Ctx>,
  options: HttpProxyOptions = {},
): Promise<{ port: number; proxy: HttpProxy<Ctx>; logs: CapturedLog[]; url(path?: string): string }> {
  const logger = memoryLogger();
  const proxy = new HttpProxy(inner, { logger, ...options });
  const service = new Service('test proxy', new HttpServer(proxy), { logger });
  service.addTcp('127.0.0.1:0');
  const port = await startService(service, new ShutdownController());
  return { port, proxy, logs: logger.lines, url: (path = '/') => `http://127.0.0.1:${port}${path}` };
}

/**
 * Resolves once `read()` (bytes an origin has written, say) stays the same across two round
 * trips to a separate origin. Each round trip takes the shared event loop through several I/O
 * polls, in which a flow that can still move would move; so the stall is shown by progress
 * elsewhere, not by a pause whose meaning a loaded machine changes.
 */
export async function waitForStall(read: () => number, message: string): Promise<void> {
  const probe = await startTestOrigin((_req, res) => res.end('pong'));
  let last = read();
  let steady = 0;
  await waitFor(
    async () => {
      await request(`http://127.0.0.1:${probe.port}/`);
      const now = read();
      steady = now === last ? steady + 1 : 0;
      last = now;
      return steady >= 2;
    },
    { message },
  );
}
