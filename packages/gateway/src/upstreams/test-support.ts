/**
 * Test support (used by the `*.test.ts` files beside it): a real proxy whose `upstreamPeer` is a
 * cluster's `select`, retrying connect failures while the cluster allows, and origins that say
 * who answered.
 */
import type { AddressInfo } from 'node:net';
import { noopLogger, ShutdownController } from '@pingora-ts/core';
import { ErrorType, PingoraError } from '@pingora-ts/error';
import { httpProxyService, type ProxyHttp } from '@pingora-ts/proxy';
import { onClose, startOrigin, startService, type TestOrigin } from '@pingora-ts/test-utils';
import type { BuildContext, GatewayCtx, UpstreamCluster } from '../runtime/contracts.js';
import { type GatewayConfigInput, gatewayConfig } from '../schema/index.js';
import { buildClusters } from './index.js';

/** A build context for tests: files relative to `baseDir`, logs dropped. */
export function testContext(baseDir = process.cwd()): BuildContext {
  return { baseDir, logger: noopLogger };
}

/** The cluster `app` of a file with only `upstreams.app`. */
export function buildApp(app: NonNullable<GatewayConfigInput['upstreams']>[string], baseDir?: string) {
  const config = gatewayConfig.parse({ upstreams: { app } });
  return buildClusters(config, testContext(baseDir)).get('app')!;
}

/** A proxy on 127.0.0.1:0 sending every request to `cluster`; resolves with its base URL. */
export async function startClusterProxy(cluster: UpstreamCluster): Promise<string> {
  const proxy: ProxyHttp<GatewayCtx> = {
    newCtx: () => ({ route: undefined, tried: [], release: undefined }),
    upstreamPeer(session, ctx) {
      const peer = cluster.select(session, ctx);
      if (peer === undefined) throw PingoraError.explain(ErrorType.ConnectNoRoute, 'no backend');
      return peer;
    },
    failToConnect: (_s, _p, ctx, e) => (ctx.tried.length <= cluster.retries ? e.setRetry(true) : e),
    upstreamRequestFilter(session, req) {
      cluster.upstreamRequest?.(session, req);
    },
    logging(_s, _e, ctx) {
      ctx.release?.();
    },
  };
  const service = httpProxyService({}, proxy, { logger: noopLogger });
  service.addTcp('127.0.0.1:0');
  const port = await startService(service, new ShutdownController());
  return `http://127.0.0.1:${port}`;
}

/** Runs the cluster's background service (discovery, health checks) until the test closes. */
export function runBackground(cluster: UpstreamCluster): void {
  const ctl = new ShutdownController();
  const running = cluster.background?.start(ctl.watch);
  onClose(async () => {
    ctl.shutdown(false);
    await running;
  });
}

/** `n` origins answering with their name (`o0`, `o1`, …) and counting requests by name. */
export async function namedOrigins(n: number): Promise<{ origins: TestOrigin[]; hits: Map<string, number> }> {
  const hits = new Map<string, number>();
  const origins: TestOrigin[] = [];
  for (let i = 0; i < n; i++) {
    const name = `o${i}`;
    origins.push(
      await startOrigin((_req, res) => {
        hits.set(name, (hits.get(name) ?? 0) + 1);
        res.end(name);
      }),
    );
  }
  return { origins, hits };
}

/** Stops an origin (and its open connections) before the test ends. */
export function stopOrigin(origin: TestOrigin): Promise<void> {
  return new Promise((resolve) => {
    origin.server.closeAllConnections();
    origin.server.close(() => resolve());
  });
}

/** The port an origin's server listens on. */
export function portOf(server: { address(): AddressInfo | string | null }): number {
  return (server.address() as AddressInfo).port;
}
