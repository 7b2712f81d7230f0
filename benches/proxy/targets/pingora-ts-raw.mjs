/**
 * pingora-ts as `pingora-ts.mjs`, with HTTP/1.x served by the raw-socket engine (`h1Engine:
 * 'pingora'`) instead of node:http.   pingora-ts-raw.mjs <port> <originPort>
 */
import { HttpPeer, HttpServer, noopLogger, Service, ShutdownController } from '@pingora-ts/core';
import { HttpProxy } from '@pingora-ts/proxy';

const [port, originPort] = process.argv.slice(2).map(Number);
const addr = `127.0.0.1:${originPort}`;
const proxy = new HttpProxy({ upstreamPeer: () => new HttpPeer(addr, false, '') }, { logger: noopLogger });
const http = new HttpServer(proxy, { ...proxy.serverOptions, h1Engine: 'pingora' });
const service = new Service('bench', http, { logger: noopLogger });
service.addTcp(`127.0.0.1:${port}`);
await service.start(new ShutdownController().watch);
