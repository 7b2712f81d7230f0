/**
 * Measuring stick: a keep-alive proxy on raw `net` sockets both sides (about 40 lines, no
 * node:http, no framework, no safety). It answers GETs only and trusts every byte: the Node
 * ceiling, not a competitor.   raw-net.mjs <port> <originPort>
 */
import net from 'node:net';
import { rawUpstream } from './lib/raw-upstream.mjs';

const [port, originPort] = process.argv.slice(2).map(Number);
const get = rawUpstream(originPort);
const CRLF2 = Buffer.from('\r\n\r\n');
net
  .createServer({ noDelay: true }, (client) => {
    let buf = Buffer.alloc(0);
    let busy = false;
    const next = () => {
      const end = buf.indexOf(CRLF2);
      if (busy || end < 0) return;
      const line = buf.subarray(0, buf.indexOf(13)).toString('latin1');
      buf = buf.subarray(end + 4);
      busy = true;
      get(line.split(' ')[1], `127.0.0.1:${originPort}`, (head, body) => {
        // The origin's head is passed through as is (it is keep-alive with a Content-Length).
        client.write(Buffer.concat([head, body]));
        busy = false;
        next();
      });
    };
    client.on('data', (chunk) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      next();
    });
    client.on('error', () => {});
  })
  .listen(port, '127.0.0.1');
