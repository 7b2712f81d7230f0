/**
 * Pingora's `rate_limiter` example on plain `node:http`: at most MAX_REQ_PER_SEC requests per
 * second per `appid` header; past that, 429 with the X-Rate-Limit headers, and the connection
 * closed (Pingora's `set_keepalive(None)`). Requests without an appid are not limited.
 *
 *   npx tsx rate-limiter.ts
 *   curl -i -H 'appid: 1' localhost:6188   # twice within a second: 200, then 429
 */
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { Rate } from '@pingora-ts/limits';

// Max requests per second per client.
const MAX_REQ_PER_SEC = 1;

export function createApp(rateLimiter = new Rate(1000)): Server {
  return createServer((req, res) => {
    const appid = req.headers.appid;
    if (typeof appid === 'string') {
      // The count of this client's requests in the current one-second window.
      const currWindowRequests = rateLimiter.observe(appid, 1);
      if (currWindowRequests > MAX_REQ_PER_SEC) {
        res.writeHead(429, {
          'X-Rate-Limit-Limit': String(MAX_REQ_PER_SEC),
          'X-Rate-Limit-Remaining': '0',
          'X-Rate-Limit-Reset': '1',
          Connection: 'close',
        });
        res.end();
        return;
      }
    }
    // Pingora proxies the request upstream here; this example just answers.
    res.end('hello\n');
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  createApp().listen(6188, () => console.log('listening on http://localhost:6188'));
}
