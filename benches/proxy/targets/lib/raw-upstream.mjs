/**
 * A measuring stick, not a proxy: a keep-alive pool of raw `net` sockets to the origin that sends
 * a GET and reads one response framed by Content-Length. No validation, no chunked bodies, no
 * timeouts, no safety: it shows what Node itself can do, so the benchmark can print the ceiling.
 */
import net from 'node:net';

const CRLF2 = Buffer.from('\r\n\r\n');

/** `get(path, host, done)` sends a GET on an idle (or new) connection; `done(head, body)` gets the raw reply. */
export function rawUpstream(port) {
  const idle = [];
  function connection() {
    const s = net.connect(port, '127.0.0.1');
    s.setNoDelay(true);
    s.buf = Buffer.alloc(0);
    s.on('data', (chunk) => {
      s.buf = s.buf.length === 0 ? chunk : Buffer.concat([s.buf, chunk]);
      const end = s.buf.indexOf(CRLF2);
      if (end < 0) return;
      const head = s.buf.subarray(0, end + 4);
      const m = /content-length:\s*(\d+)/i.exec(head.toString('latin1'));
      const len = m === null ? 0 : Number(m[1]);
      if (s.buf.length < end + 4 + len) return;
      const body = s.buf.subarray(end + 4, end + 4 + len);
      s.buf = s.buf.subarray(end + 4 + len);
      const done = s.done;
      s.done = undefined;
      idle.push(s);
      done(head, body);
    });
    s.on('error', () => {});
    return s;
  }
  return (path, host, done) => {
    const s = idle.pop() ?? connection();
    s.done = done;
    s.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
  };
}
