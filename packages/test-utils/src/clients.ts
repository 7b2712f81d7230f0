/** Clients for tests: raw bytes over TCP (framing tests) and one request with node:http. */
import http from 'node:http';
import net from 'node:net';

/** Sends raw bytes and collects everything the server sends until it closes or `idleMs` passes quietly. */
export function rawRequest(port: number, data: string | Buffer, idleMs = 300): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    const done = () => {
      clearTimeout(timer);
      s.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(done, idleMs);
    };
    s.on('data', (c) => {
      chunks.push(c);
      arm();
    });
    s.on('error', done);
    s.on('close', done);
    s.write(data);
    arm();
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
