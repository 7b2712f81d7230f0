/**
 * pingora-ts proxying to the origin with the response compression module at `level` (0 registers
 * it disabled, Pingora's default), one process.   pingora-ts.mjs <port> <originPort> <level>
 */
import {
  HttpPeer,
  HttpServer,
  noopLogger,
  ResponseCompressionBuilder,
  Service,
  ShutdownController,
} from '@pingora-ts/core';
import { HttpProxy } from '@pingora-ts/proxy';

const [port, originPort, level] = process.argv.slice(2).map(Number);
const addr = `127.0.0.1:${originPort}`;
const proxy = new HttpProxy(
  {
    upstreamPeer: () => new HttpPeer(addr, false, ''),
    initDownstreamModules(modules) {
      modules.addModule(ResponseCompressionBuilder.enable(level));
    },
  },
  { logger: noopLogger },
);
const service = new Service('bench', new HttpServer(proxy), { logger: noopLogger });
service.addTcp(`127.0.0.1:${port}`);
await service.start(new ShutdownController().watch);
