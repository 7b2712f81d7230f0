/**
 * pingora-ts with a LoadBalancer in `upstreamPeer`, one process: the pingora-ts target plus the
 * per-request selection. Three round-robin backends (weights 1, 2, 3 on the one benchmark
 * origin, so each is a distinct backend but all share its connection pool) with a TCP health
 * check every second, as a real deployment would run it.   pingora-ts-lb.mjs <port> <originPort>
 */
import { HttpPeer, HttpServer, noopLogger, Service, ShutdownController } from '@pingora-ts/core';
import {
  Backend,
  Backends,
  LoadBalancer,
  RoundRobin,
  Static,
  TcpHealthCheck,
} from '@pingora-ts/load-balancing';
import { HttpProxy } from '@pingora-ts/proxy';

const [port, originPort] = process.argv.slice(2).map(Number);
const addr = `127.0.0.1:${originPort}`;
const backends = new Backends(Static.new([1, 2, 3].map((w) => new Backend(addr, w))), { logger: noopLogger });
backends.setDiscovered(backends.discovery.discover());
const lb = LoadBalancer.fromBackends(RoundRobin, backends);
lb.setHealthCheck(TcpHealthCheck.new());
lb.healthCheckFrequency = 1_000;
const shutdown = new ShutdownController();
void lb.start(shutdown.watch);

const proxy = new HttpProxy(
  {
    upstreamPeer() {
      const backend = lb.select('', 256);
      if (backend === undefined) throw new Error('no healthy backend');
      return new HttpPeer(backend.address, false, '');
    },
  },
  { logger: noopLogger },
);
const service = new Service('bench', new HttpServer(proxy), { logger: noopLogger });
service.addTcp(`127.0.0.1:${port}`);
await service.start(shutdown.watch);
