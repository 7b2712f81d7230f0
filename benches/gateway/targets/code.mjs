/**
 * The benchmark's 10-route proxy written in code, as a user of the library would: a
 * LoadBalancer, a prefix match per route, one request and one response header set.
 *   code.mjs <port> <originPort>
 */
import { HttpPeer, noopLogger, Opt, Server, ServerConf } from '@pingora-ts/core';
import { LoadBalancer, RoundRobin } from '@pingora-ts/load-balancing';
import { httpProxyService } from '@pingora-ts/proxy';

const [port, originPort] = process.argv.slice(2).map(Number);
const routes = Array.from({ length: 10 }, (_, i) => ({ prefix: `/r${i}/`, name: `r${i}` }));
const lb = LoadBalancer.tryFromIter(RoundRobin, [`127.0.0.1:${originPort}`]);
const server = new Server(new Opt(), new ServerConf({ gracePeriodSeconds: 1 }), { logger: noopLogger });
server.bootstrap();
const proxy = httpProxyService(
  server.configuration,
  {
    newCtx: () => ({ route: undefined }),
    requestFilter(session, ctx) {
      const path = session.reqHeader().uri;
      ctx.route = routes.find((r) => path.startsWith(r.prefix));
      if (ctx.route === undefined) {
        session.respondError(404);
        return true;
      }
      return false;
    },
    upstreamPeer() {
      const backend = lb.select('', 256);
      return new HttpPeer(backend.address, false, '');
    },
    upstreamRequestFilter(_session, req, ctx) {
      req.insertHeader('x-route', ctx.route.name);
    },
    responseFilter(_session, resp) {
      resp.insertHeader('x-proxy', 'pingora-ts');
    },
  },
  { logger: noopLogger },
);
proxy.addTcp(`127.0.0.1:${port}`);
server.addService(proxy);
await server.runForever();
