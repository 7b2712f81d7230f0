/**
 * For the disk-cache-with-workers test: a server with `threads: 2` whose one route caches on a
 * disk storage made by `buildPolicies`. Each response names the worker that served it
 * (`x-served-by`); each serving process prints `SERVING <pid> <port>`.
 *
 *   disk-workers.fixture.ts -c conf.yaml -- <baseDir> <originPort> <maxBytes>
 */
import { HttpServer, Opt, processGroup, Server, Service } from '@pingora-ts/core';
import { HttpProxy } from '@pingora-ts/proxy';
import { buildPolicies } from './index.js';
import { configWith, routeProxyHttp } from './test-proxy.js';

const opt = Opt.parseArgs();
const [baseDir = '.', originPort = '0', maxBytes = String(1 << 26)] = opt.rest;
const server = new Server(opt);
server.bootstrap();

const origin = `127.0.0.1:${originPort}`;
const config = configWith(origin, {
  server: { threads: server.configuration.threads },
  cache: { disk: { path: 'cache', max_size: Number(maxBytes) } },
  routes: [{ name: 'r', upstream: 'app', cache: { storage: 'disk' } }],
});
const policies = buildPolicies(config, { baseDir, logger: server.logger });
const cache = policies.routeCache(config.routes[0]!, 'r');
await policies.ready();

const inner = routeProxyHttp({ origin, cache });
const proxy = new HttpProxy(
  {
    ...inner,
    responseFilter(s, resp, ctx) {
      inner.responseFilter?.(s, resp, ctx);
      resp.insertHeader('x-served-by', String(process.pid));
    },
  },
  { logger: server.logger },
);
const service = new Service('gateway disk workers', new HttpServer(proxy));
service.addTcp('127.0.0.1:0');
server.addService(service);
server.onPhase((phase) => {
  const addr = service.addresses()[0];
  const serving = processGroup.role === 'worker' || server.configuration.threads === 1;
  if (phase === 'Running' && serving && addr?.kind === 'tcp') {
    process.stdout.write(`SERVING ${process.pid} ${addr.port}\n`);
  }
});
await server.runForever();
await policies.close();
