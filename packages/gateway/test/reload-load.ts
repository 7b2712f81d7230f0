/**
 * Continuous load for the reload tests: keep-alive clients and clients that open a connection per
 * request (`Connection: close`), one request after another until stopped. Each answer is tallied
 * by its `x-gen` header (which configuration served it); every failure, a connection error or a
 * status other than 200, is recorded with its reason.
 */
import * as http from 'node:http';

/** A running load and its tallies. */
export interface GenLoad {
  ok: number;
  failures: string[];
  /** Answers per `x-gen` value since the start. */
  readonly gens: Map<string, number>;
  /** Answers per `x-gen` value from now on (a fresh tally that keeps counting). */
  from(): Map<string, number>;
  /** Stop sending; resolves when every loop has finished its last request. */
  stop(): Promise<void>;
}

function get(port: number, agent: http.Agent | false, close: boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: '127.0.0.1', port, path: '/load', agent, headers: close ? { connection: 'close' } : {} },
      (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode === 200
            ? resolve(String(res.headers['x-gen'] ?? 'none'))
            : reject(new Error(`status ${res.statusCode}`)),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    // A request that hangs is a failure too, not a stuck test.
    req.setTimeout(20_000, () => req.destroy(new Error('timed out')));
  });
}

/** Start `loops` keep-alive and `loops` Connection: close clients on 127.0.0.1:`port`. */
export function startGenLoad(port: number, loops = 2): GenLoad {
  let running = true;
  const agent = new http.Agent({ keepAlive: true, maxSockets: loops });
  const tallies: Map<string, number>[] = [new Map()];
  const workers: Promise<void>[] = [];
  const load: GenLoad = {
    ok: 0,
    failures: [],
    gens: tallies[0]!,
    from() {
      const t = new Map<string, number>();
      tallies.push(t);
      return t;
    },
    async stop() {
      running = false;
      await Promise.all(workers);
      agent.destroy();
    },
  };
  const loop = async (close: boolean) => {
    while (running) {
      try {
        const gen = await get(port, close ? false : agent, close);
        load.ok++;
        for (const t of tallies) t.set(gen, (t.get(gen) ?? 0) + 1);
      } catch (err) {
        load.failures.push(`${close ? 'close' : 'keep-alive'}: ${(err as Error).message}`);
      }
    }
  };
  for (let i = 0; i < loops; i++) workers.push(loop(false), loop(true));
  return load;
}
