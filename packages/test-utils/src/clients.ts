/** Clients for tests: raw bytes over TCP (framing tests) and one request with node:http. */
import http from 'node:http';
import net from 'node:net';

/** When {@link rawRequest} stops reading. */
export interface RawRequestOptions {
  /** Resolve as soon as the text received so far satisfies this (e.g. holds two status lines). */
  until?: (received: string) => boolean;
  /**
   * Once bytes have arrived, resolve after this long with nothing more. Default 300 ms. A slow
   * server cannot cut a reply short through it: the quiet period starts at the first byte.
   */
  idleMs?: number;
  /** Resolve with whatever arrived (maybe nothing) after this long in all. Default 15 000 ms. */
  timeoutMs?: number;
}

/**
 * Sends raw bytes and collects what the server sends until it closes the connection, `until`
 * holds, or the server goes quiet for `idleMs` after its first byte. A number as third argument
 * is `idleMs`.
 */
export function rawRequest(
  port: number,
  data: string | Buffer,
  options: RawRequestOptions | number = {},
): Promise<string> {
  const {
    until,
    idleMs = 300,
    timeoutMs = 15_000,
  } = typeof options === 'number' ? { idleMs: options } : options;
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let idle: NodeJS.Timeout | undefined;
    const text = () => Buffer.concat(chunks).toString('latin1');
    const done = () => {
      clearTimeout(idle);
      clearTimeout(cap);
      s.destroy();
      resolve(text());
    };
    const cap = setTimeout(done, timeoutMs);
    s.on('data', (c) => {
      chunks.push(c);
      if (until?.(text())) return done();
      clearTimeout(idle);
      // With `until`, only the socket closing or the cap ends the read.
      if (until === undefined) idle = setTimeout(done, idleMs);
    });
    s.on('error', done);
    s.on('close', done);
    s.write(data);
  });
}

/** What {@link request} resolves with. */
export interface TestResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The raw header array, names as sent. */
  raw: string[];
  body: string;
  trailers: Record<string, string | undefined>;
}

/** One request with node:http (no agent unless given); resolves with the whole response. */
export function request(
  url: string,
  opts: http.RequestOptions & { body?: string | Buffer } = {},
): Promise<TestResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { agent: false, ...opts }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode!,
          headers: res.headers,
          raw: res.rawHeaders,
          body: Buffer.concat(chunks).toString(),
          trailers: res.trailers,
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}
