/**
 * pingora-ts as a typical small deployment writes it, one process: a `LoadBalancer` (round robin
 * over the one benchmark origin) in `upstreamPeer`, a `requestFilter` that reads a header, and a
 * `logging` phase that formats the access line (into a sink that drops it, so the benchmark
 * measures the proxy and not a log writer). Issue 14 asks for this within 10 % of `pingora-ts`.
 *   pingora-ts-lb-phases.mjs <port> <originPort>
 */
import { HttpPeer, HttpServer, noopLogger, Service, ShutdownController } from '@pingora-ts/core';
import { LoadBalancer, RoundRobin } from '@pingora-ts/load-balancing';
import { accessLogRecord, formatAccessLog, HttpProxy } from '@pingora-ts/proxy';

const [port, originPort] = process.argv.slice(2).map(Number);
const lb = LoadBalancer.tryFromIter(RoundRobin, [`127.0.0.1:${originPort}`]);
let lines = 0;
let lastLength = 0;
// Kept observable (a count and a length), so no engine may drop the formatting as dead code.
const sink = (line) => {
  lines++;
  lastLength = line.length;
};

const proxy = new HttpProxy(
  {
    requestFilter(session) {
      // A header check as an API gateway does (refuse a client by its User-Agent, say).
      return session.getHeader('user-agent') === 'blocked';
    },
    upstreamPeer() {
      const backend = lb.select('', 256);
      if (backend === undefined) throw new Error('no backend');
      return new HttpPeer(backend.address, false, '');
    },
    logging(session, error) {
      sink(formatAccessLog(accessLogRecord(session, error)));
    },
  },
  { logger: noopLogger },
);
const service = new Service('bench', new HttpServer(proxy), { logger: noopLogger });
service.addTcp(`127.0.0.1:${port}`);
process.on('exit', () => {
  if (lines < 0) console.error(lastLength);
});
await service.start(new ShutdownController().watch);
