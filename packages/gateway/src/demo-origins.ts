/**
 * The built-in origins of `pingora-ts --demo`: small node:http servers on the ports the bundled
 * demo file names. They say who answered, expose `/health`, and make `/page`-style paths slow
 * and cacheable so the cache's effect shows in the timings.
 */
import http from 'node:http';

/** The demo origins: name and port. */
export const DEMO_ORIGINS = [
  { name: 'api-a', port: 7101 },
  { name: 'api-b', port: 7102 },
  { name: 'content', port: 7103 },
] as const;

/** The ports the demo uses: the proxy, the metrics endpoint and the three origins. */
export interface DemoPorts {
  readonly proxy: number;
  readonly metrics: number;
  readonly origins: readonly [number, number, number];
}

/** The ports the bundled demo file names. */
export const DEFAULT_DEMO_PORTS: DemoPorts = {
  proxy: 6188,
  metrics: 6192,
  origins: [DEMO_ORIGINS[0].port, DEMO_ORIGINS[1].port, DEMO_ORIGINS[2].port],
};

/** Environment variable that moves the demo to other ports: `proxy,metrics,origin1,origin2,origin3`. */
export const DEMO_PORTS_ENV = 'PINGORA_TS_DEMO_PORTS';

/**
 * The demo's ports: {@link DEFAULT_DEMO_PORTS}, or the five listed in `value` (from
 * `PINGORA_TS_DEMO_PORTS`) when the defaults are taken on this machine.
 * @throws Error saying what the variable must hold when it is not five ports.
 *
 * @example
 * ```ts
 * demoPorts('8080,8081,9001,9002,9003').proxy; // 8080
 * ```
 */
export function demoPorts(value: string | undefined = process.env[DEMO_PORTS_ENV]): DemoPorts {
  if (value === undefined || value.trim() === '') return DEFAULT_DEMO_PORTS;
  const ports = value.split(',').map((p) => Number(p.trim()));
  if (ports.length !== 5 || ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65_535)) {
    throw new Error(
      `${DEMO_PORTS_ENV} must list five ports (proxy,metrics,origin1,origin2,origin3), got "${value}"`,
    );
  }
  const [proxy, metrics, a, b, c] = ports as [number, number, number, number, number];
  return { proxy, metrics, origins: [a, b, c] };
}

/**
 * The bundled demo file's text moved to `ports`: every `127.0.0.1:<default port>` (listeners,
 * backends, the curl lines of the home page) names the chosen port instead.
 */
export function demoFileText(text: string, ports: DemoPorts): string {
  const from = DEFAULT_DEMO_PORTS;
  const map = new Map<number, number>([
    [from.proxy, ports.proxy],
    [from.metrics, ports.metrics],
    ...from.origins.map((p, i) => [p, ports.origins[i]!] as [number, number]),
  ]);
  return text.replace(/127\.0\.0\.1:(\d+)/g, (all, port: string) => {
    const to = map.get(Number(port));
    return to === undefined ? all : `127.0.0.1:${to}`;
  });
}

/**
 * Starts the demo origins on 127.0.0.1 (on `ports`, default the demo file's); resolves with a
 * function that stops them.
 */
export async function startDemoOrigins(ports: DemoPorts = DEFAULT_DEMO_PORTS): Promise<() => Promise<void>> {
  const servers = await Promise.all(DEMO_ORIGINS.map((o, i) => listen(o.name, ports.origins[i]!)));
  return async () => {
    await Promise.all(
      servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.closeAllConnections();
            s.close(() => resolve());
          }),
      ),
    );
  };
}

function listen(name: string, port: number): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    req.resume();
    if (req.url === '/health') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      return;
    }
    const body = `hello from ${name}: ${req.method} ${req.url}\n`;
    if (name === 'content') {
      // Slow and cacheable: a hit answers at once, a miss takes 200 ms.
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'max-age=30', 'x-origin': name });
        res.end(`${body}generated at ${new Date().toISOString()}\n`);
      }, 200);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain', 'x-origin': name }).end(body);
  });
  return new Promise((resolve, reject) => {
    server.once('error', (err) =>
      reject(new Error(`demo origin ${name} cannot listen on 127.0.0.1:${port}: ${err.message}`)),
    );
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}
