/**
 * The main job: a pingora-ts load balancer on :6188 in front of three built-in demo origins, with
 * a TCP health check every second. origin-b goes down about 5 s after start for 10 s, then comes
 * back, and does so again every 15 s, so the log shows failover as it happens:
 *
 *   - requests that picked origin-b before the check noticed are retried on another origin
 *     (`failToConnect` marks connect errors retryable; `upstreamPeer` skips what it tried);
 *   - the health check logs `… becomes unhealthy` and origin-b gets no more requests;
 *   - when it is back, `… becomes healthy` and the round robin includes it again.
 *
 * Every request also leaves one access line (method, path, status, bytes, which origin served it,
 * connect time, time to first byte, total time, retries), and every retry a `retrying request:`
 * line naming the origin that failed, so a curl through :6188 can be followed in the log.
 *
 * A little demo traffic (2 requests per second for two minutes) shows it without a client; then
 * the proxy keeps serving until Ctrl-C (SIGINT: fast shutdown) or SIGTERM (graceful).
 *
 *   npx --yes pnpm@10.34.8 start
 */
import { backgroundService, HttpPeer, type Logger, Server, type ServerService } from '@pingora-ts/core';
import { ErrorType, PingoraError } from '@pingora-ts/error';
import { LoadBalancer, RoundRobin, TcpHealthCheck } from '@pingora-ts/load-balancing';
import { accessLog, httpProxyService, type ProxyHttp } from '@pingora-ts/proxy';
import { consoleLogger } from './lib/console-logger.js';
import { type DemoOrigin, isMain, startDemoOrigin } from './lib/demo-origins.js';
import { type Running, startServices } from './lib/run.js';
import { signalsFromKeys } from './lib/terminal.js';

/** A demo origin that can stop listening and come back on the same port. */
export interface FlappingOrigin {
  origin: DemoOrigin;
  readonly up: boolean;
  down(): Promise<void>;
  restore(): Promise<void>;
}

function flapping(origin: DemoOrigin): FlappingOrigin {
  let up = true;
  return {
    origin,
    get up() {
      return up;
    },
    async down() {
      if (!up) return;
      up = false;
      await origin.close(); // refuse new connections, reset the open ones: a crashed process
    },
    async restore() {
      if (up) return;
      await new Promise<void>((r) => origin.server.listen(origin.port, '127.0.0.1', r));
      up = true;
    },
  };
}

interface Ctx {
  tried: Set<string>;
}

/**
 * Round robin over the healthy backends. A connect failure is retried on a backend this request
 * has not tried yet, so requests keep succeeding in the second before the health check notices.
 */
export function failoverProxy(upstreams: LoadBalancer<RoundRobin>): ProxyHttp<Ctx> {
  return {
    newCtx: () => ({ tried: new Set() }),
    upstreamPeer(_session, ctx) {
      const backend = upstreams.selectWith('', 256, (b, healthy) => healthy && !ctx.tried.has(b.addr));
      if (backend === undefined)
        throw PingoraError.explain(ErrorType.ConnectNoRoute, 'no healthy upstream').asUp();
      ctx.tried.add(backend.addr);
      const peer = new HttpPeer(backend.address, false, '');
      peer.options.connectionTimeout = 1_000;
      return peer;
    },
    failToConnect(_session, _peer, _ctx, error) {
      return error.setRetry(true);
    },
    upstreamRequestFilter(_session, upstreamRequest) {
      upstreamRequest.insertHeader('Host', 'one.one.one.one');
    },
    logging(session, error) {
      accessLog(session.logger, session, error);
    },
  };
}

/** What {@link main} builds. */
export interface Demo {
  origins: DemoOrigin[];
  /** origin-b, the one that goes down and comes back. */
  flappy: FlappingOrigin;
  upstreams: LoadBalancer<RoundRobin>;
  services: ServerService[];
  /** Stops the origins and timers (the services are stopped by their server). */
  close(): Promise<void>;
}

/** Options of {@link main}; times in ms. */
export interface DemoOptions {
  port: number;
  logger: Logger;
  /** Start origin-b's down/up cycle: down after `downAfter`, for `downFor`, repeating. */
  flap?: { downAfter: number; downFor: number } | undefined;
}

/** Builds the origins, the health-checked load balancer and the proxy service. */
export async function main({ port, logger, flap }: DemoOptions): Promise<Demo> {
  const origins = await Promise.all(['origin-a', 'origin-b', 'origin-c'].map((n) => startDemoOrigin(n)));
  const names = new Map(origins.map((o) => [o.addr, o.name]));
  const upstreams = LoadBalancer.tryFromIter(
    RoundRobin,
    origins.map((o) => o.addr),
  );
  upstreams.logger = logger;
  const hc = TcpHealthCheck.new();
  hc.backendSummaryCallback = (b) => `${names.get(b.addr) ?? 'backend'} (${b.addr})`;
  upstreams.setHealthCheck(hc);
  upstreams.healthCheckFrequency = 1_000;
  const background = backgroundService('health check', upstreams, logger);
  const proxy = httpProxyService({}, failoverProxy(background.task()), { logger });
  proxy.addTcp(`127.0.0.1:${port}`);

  const flappy = flapping(origins[1]!);
  const timers: NodeJS.Timeout[] = [];
  if (flap !== undefined) {
    const cycle = () => {
      timers.push(
        setTimeout(() => {
          logger.info(`demo: ${flappy.origin.name} goes down for ${flap.downFor / 1000} s`);
          void flappy.down();
          timers.push(
            setTimeout(() => {
              logger.info(`demo: ${flappy.origin.name} is back`);
              void flappy.restore().then(cycle);
            }, flap.downFor).unref(),
          );
        }, flap.downAfter).unref(),
      );
    };
    cycle();
  }
  return {
    origins,
    flappy,
    upstreams,
    services: [background, proxy],
    async close() {
      for (const t of timers) clearTimeout(t);
      for (const o of origins) if (o !== flappy.origin || flappy.up) await o.close();
    },
  };
}

/** Starts the demo's services on a non-exiting server, for tests. */
export async function startDemo(options: DemoOptions): Promise<Running & Demo> {
  const demo = await main(options);
  const running = await startServices(demo.services, [() => demo.close()]);
  return { ...demo, ...running };
}

if (isMain(import.meta.url)) {
  signalsFromKeys(); // Ctrl-C stops the server with exit 0, without wrapper noise
  const port = Number(process.env.PORT ?? 6188);
  const logger = consoleLogger();
  const server = new Server(null, undefined, { logger });
  server.bootstrap();
  // 5.4 s, not 5: between two health checks, so a request or two meet the dead origin first.
  const demo = await main({ port, logger, flap: { downAfter: 5_400, downFor: 10_000 } });
  server.addServices(demo.services);
  const running = server.runForever();

  const url = `http://127.0.0.1:${port}/`;
  const tryLine = `try: curl -i ${url}   (Ctrl-C to stop)`;
  console.log(
    `\npingora-ts load balancer on ${url} in front of ${demo.origins.map((o) => `${o.name} (${o.addr})`).join(', ')}`,
  );
  console.log('TCP health check every second; origin-b goes down after ~5 s for 10 s, repeating.');
  console.log(`${tryLine}\n`);

  // Demo traffic: 2 requests per second for two minutes, one at a time.
  const start = Date.now();
  for (let i = 0; i < 240; i++) {
    await new Promise((r) => setTimeout(r, 500));
    const t = ((Date.now() - start) / 1000).toFixed(1).padStart(5);
    try {
      const res = await fetch(url);
      console.log(`[${t}s] GET / → ${res.status} ${(await res.text()).trim()}`);
    } catch (e) {
      console.log(`[${t}s] GET / failed: ${(e as Error).message}`);
    }
  }
  console.log(`\ndemo traffic done; the proxy keeps serving. ${tryLine}\n`);
  await running;
}
