/**
 * HTTP/1.1 clients for benchmark steps that wrk cannot do: a burst of many requests at once on
 * separate connections (a cache stampede), and filling a cache with thousands of distinct URLs at a
 * bounded concurrency. Every request reads its whole body and times itself.
 */
import http from 'node:http';
import net from 'node:net';

/** One finished request. */
export interface Fetched {
  status: number;
  /** Body bytes received. */
  bytes: number;
  /** From sending the request to the body's end, ms. */
  ms: number;
  headers: http.IncomingHttpHeaders;
}

/** A request gives up after this long: a stuck target fails the step instead of hanging the run. */
const TIMEOUT_MS = 30_000;

/** GETs 127.0.0.1:`port``path` through `agent` and reads the whole body. */
export function get(port: number, path: string, agent: http.Agent | false = false): Promise<Fetched> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = http.get({ host: '127.0.0.1', port, path, agent, timeout: TIMEOUT_MS }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          bytes,
          ms: performance.now() - t0,
          headers: res.headers,
        }),
      );
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no response in ${TIMEOUT_MS} ms`)));
    req.on('error', reject);
  });
}

/** What {@link burst} saw. */
export interface BurstResult {
  /** Latency of each request answered 200, ms, from writing it to the answer's end. */
  ok: number[];
  /** Failed requests (connection errors, timeouts, non-200 answers), one message each. */
  errors: string[];
  /** How long after the first request the last one was written, ms. */
  sendSpreadMs: number;
  /** How often each value of the `X-Cache-Status` response header came back (nginx sets it). */
  cacheStatus: Map<string, number>;
}

/** One raw exchange on its own connection: the response head and how many bytes followed it. */
interface RawAnswer {
  ms: number;
  head: string;
  bodyBytes: number;
}

/** Opens a connection to 127.0.0.1:`port`. */
function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

/** Writes `request` on `s` and reads the answer to the end of the stream (Connection: close). */
function exchange(s: net.Socket, request: Buffer): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    s.setTimeout(TIMEOUT_MS, () => s.destroy(new Error(`no response in ${TIMEOUT_MS} ms`)));
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('end', () => {
      const all = Buffer.concat(chunks);
      const headEnd = all.indexOf('\r\n\r\n');
      resolve({
        ms: performance.now() - start,
        head: all.subarray(0, Math.max(0, headEnd)).toString('latin1'),
        bodyBytes: headEnd < 0 ? 0 : all.length - headEnd - 4,
      });
      s.destroy();
    });
    s.on('error', reject);
    const start = performance.now();
    s.write(request);
  });
}

/**
 * Sends `n` GETs for `path` at once, each on its own connection, and waits for all of them. Every
 * connection is opened first and only then are the requests written, in one tight loop of raw
 * socket writes: opening a thousand connections (or http.request objects) takes long enough that
 * the last requests would otherwise arrive after the origin had answered the first, as plain hits
 * instead of waiters.
 *
 * @example
 * ```ts
 * const r = await burst(proxyPort, '/slow/key-1', 1000);
 * console.log(r.ok.length, r.errors.length, percentile(r.ok, 99));
 * ```
 */
export async function burst(port: number, path: string, n: number): Promise<BurstResult> {
  const request = Buffer.from(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`);
  const result: BurstResult = { ok: [], errors: [], sendSpreadMs: 0, cacheStatus: new Map() };
  const sockets: net.Socket[] = [];
  for (const c of await Promise.allSettled(Array.from({ length: n }, () => connect(port)))) {
    if (c.status === 'fulfilled') sockets.push(c.value);
    else result.errors.push(`connect: ${String((c.reason as Error).message ?? c.reason)}`);
  }
  const t0 = performance.now();
  const answers = sockets.map((s) => exchange(s, request));
  result.sendSpreadMs = performance.now() - t0;
  for (const r of await Promise.allSettled(answers)) {
    if (r.status === 'rejected') {
      result.errors.push(String((r.reason as Error).message ?? r.reason));
      continue;
    }
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(r.value.head)?.[1];
    if (status !== '200') {
      result.errors.push(`status ${status ?? 'unreadable'}`);
      continue;
    }
    // Connection: close, so the body runs to the end of the stream: it must match Content-Length.
    const length = /^content-length:\s*(\d+)/im.exec(r.value.head)?.[1];
    if (length !== undefined && Number(length) !== r.value.bodyBytes) {
      result.errors.push(`body of ${r.value.bodyBytes} bytes, Content-Length ${length}`);
      continue;
    }
    result.ok.push(r.value.ms);
    const cache = /^x-cache-status:\s*(\S+)/im.exec(r.value.head)?.[1];
    if (cache !== undefined) result.cacheStatus.set(cache, (result.cacheStatus.get(cache) ?? 0) + 1);
  }
  return result;
}

/** What {@link fetchAll} saw. */
export interface FetchAllResult {
  requests: number;
  bytes: number;
  /** Failed requests, one message each (non-200 answers included). */
  errors: string[];
}

/**
 * GETs every path in `paths` over at most `concurrency` keep-alive connections and reads every
 * body; a failed request is recorded and the others go on.
 */
export async function fetchAll(
  port: number,
  paths: readonly string[],
  concurrency: number,
): Promise<FetchAllResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const result: FetchAllResult = { requests: 0, bytes: 0, errors: [] };
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < paths.length) {
      const path = paths[next++]!;
      try {
        const f = await get(port, path, agent);
        result.requests++;
        result.bytes += f.bytes;
        if (f.status !== 200) result.errors.push(`${path}: status ${f.status}`);
      } catch (e) {
        result.errors.push(`${path}: ${(e as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  agent.destroy();
  return result;
}
