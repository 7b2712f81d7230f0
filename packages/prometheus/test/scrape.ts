/** A scrape of a metrics service, as raw bytes so a gzipped body can be checked as gzip. */
import http from 'node:http';

/** What a scrape got. */
export interface Scrape {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** GET any path of the metrics service on `port` over a fresh connection. */
export function scrape(port: number, headers: Record<string, string> = {}): Promise<Scrape> {
  return new Promise((resolve, reject) => {
    const req = http.get(`http://127.0.0.1:${port}/any/path`, { agent: false, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}
