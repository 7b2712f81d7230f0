/**
 * Continuous HTTP load for the worker and upgrade tests: `loops` keep-alive clients and `loops`
 * clients that open a new connection per request (`Connection: close`), each sending one request
 * after another until stopped. Every failure is recorded with its reason, so a test can assert
 * that none happened.
 */
import * as http from 'node:http';

/** A running load and its tallies. */
export interface Load {
  ok: number;
  failures: string[];
  /** Pids that answered (the servers print them in the body), with when each first did. */
  pids: Map<number, number>;
  /** Stop sending; resolves when every loop has finished its last request. */
  stop(): Promise<void>;
}

function get(port: number, agent: http.Agent | false, close: boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: '127.0.0.1', port, path: '/', agent, headers: close ? { connection: 'close' } : {} },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () =>
          res.statusCode === 200 ? resolve(body) : reject(new Error(`status ${res.statusCode}`)),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    // A request that hangs is a failure too, not a stuck test.
    req.setTimeout(15_000, () => req.destroy(new Error('timed out')));
  });
}

/** Start the load on 127.0.0.1:`port`. */
export function startLoad(port: number, loops = 2): Load {
  let running = true;
  const agent = new http.Agent({ keepAlive: true, maxSockets: loops });
  const load: Load = {
    ok: 0,
    failures: [],
    pids: new Map(),
    stop: async () => {
      running = false;
      await Promise.all(workers);
      agent.destroy();
    },
  };
  const loop = async (close: boolean) => {
    while (running) {
      try {
        const body = await get(port, close ? false : agent, close);
        load.ok++;
        const pid = Number(body.split(' ')[1]);
        if (pid > 0 && !load.pids.has(pid)) load.pids.set(pid, performance.now());
      } catch (err) {
        load.failures.push(`${close ? 'close' : 'keep-alive'}: ${(err as Error).message}`);
      }
    }
  };
  const workers: Promise<void>[] = [];
  for (let i = 0; i < loops; i++) workers.push(loop(false), loop(true));
  return load;
}
