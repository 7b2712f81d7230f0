/**
 * One proxy of the overhead benchmark: the minimal pingora-ts proxy, with the default metrics
 * turned on (`on`) or not (`off`), or with an empty `logging` phase (`logging`: what the phase
 * itself costs the proxy, recording aside). With metrics it also serves them, so the runner can
 * check that every request was recorded.
 *   target.ts <port> <originPort> <on|off|logging|control> [metricsPort]   (`control` = `off`)
 */
import { HttpPeer, HttpServer, noopLogger, Service, ShutdownController } from '@pingora-ts/core';
import { HttpProxy, type ProxyHttp } from '@pingora-ts/proxy';
import {
  ProxyMetrics,
  prometheusHttpService,
  registerServiceMetrics,
  withProxyMetrics,
} from '../src/index.js';

const [portArg, originArg, mode, metricsArg] = process.argv.slice(2);
const addr = `127.0.0.1:${Number(originArg)}`;
const inner: ProxyHttp = { upstreamPeer: () => new HttpPeer(addr, false, '') };
const on = mode === 'on';
const phases: ProxyHttp = on
  ? withProxyMetrics(inner, new ProxyMetrics())
  : mode === 'logging'
    ? { ...inner, logging() {} }
    : inner;
const proxy = new HttpProxy(phases, { logger: noopLogger });
const service = new Service('bench', new HttpServer(proxy), { logger: noopLogger });
service.addTcp(`127.0.0.1:${Number(portArg)}`);
const shutdown = new ShutdownController();
await service.start(shutdown.watch);
if (on) {
  registerServiceMetrics(service);
  const scrape = prometheusHttpService();
  scrape.addTcp(`127.0.0.1:${Number(metricsArg)}`);
  await scrape.start(shutdown.watch, noopLogger);
}
