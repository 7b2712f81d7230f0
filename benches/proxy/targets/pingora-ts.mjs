/** pingora-ts with a minimal `upstreamPeer`, one process.   pingora-ts.mjs <port> <originPort> */
import { HttpPeer, HttpServer, noopLogger, Service, ShutdownController } from '@pingora-ts/core';
import { HttpProxy } from '@pingora-ts/proxy';

const [port, originPort] = process.argv.slice(2).map(Number);
const addr = `127.0.0.1:${originPort}`;
const proxy = new HttpProxy({ upstreamPeer: () => new HttpPeer(addr, false, '') }, { logger: noopLogger });
const service = new Service('bench', new HttpServer(proxy), { logger: noopLogger });
service.addTcp(`127.0.0.1:${port}`);
await service.start(new ShutdownController().watch);
