/**
 * Pingora's proxy integration tests (pingora-proxy/tests/test_upstream.rs, the cases outside
 * `mod test_cache`), ported onto the origin and proxy of test/pingora-origin.ts and
 * test/pingora-proxy.ts. Each `it` names the case it ports.
 *
 * Already asserted elsewhere, not repeated here:
 *   test_ip_binding             → pingora-basic 'test_simple_proxy' (x-upstream-client-addr), and
 *                                 upstream-conf.test 'client_bind_to_ipv4: the origin sees …'
 *   test_connection_die         → parity-exchange.test 'aborts the downstream HTTP/1.1 connection'
 *   test_upload                 → http1.test 'streams 100 MB each way intact'
 *   test_duplex                 → session-controls.test 'by default the rest of the upload is drained
 *                                 and the connection serves the next request'
 *   test_close_on_response_before_downstream_finish → session-controls.test 'with
 *                                 setCloseOnResponseBeforeDownstreamFinish(true) the response says …'
 *   test_download_timeout       → session-controls.test 'setWriteTimeout cuts a client that stops
 *                                 reading; logged as a downstream WriteTimedout, 499'
 *   test_ws_server_ends_conn    → websocket.test 'the origin closing with a code reaches the client…',
 *                                 'an upstream that vanishes closes the client socket'
 *   test_upgrade_body           → parity-exchange.test 'reaches an origin that reads it before
 *                                 switching protocols; the tunnel follows'
 *   test_upgrade_body_after_101 → parity-exchange.test 'bytes the client sends after the body reach
 *                                 the origin once, through the tunnel'
 *   test_h2_upstream_no_end_stream_read_timeout → parity-exchange.test 'an HTTP/2 origin that sends
 *                                 its body but never ends the stream'
 * Not ported: test_upload_connection_die (#[ignore] in Pingora: timing-dependent by design).
 */
import http from 'node:http';
import { closeAll, startRawOrigin, waitFor } from '@pingora-ts/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawClient } from '../test/pingora-clients.js';
import { type PingoraOrigin, startPingoraOrigin } from '../test/pingora-origin.js';
import { type PingoraProxies, startPingoraProxies } from '../test/pingora-proxy.js';

let origin: PingoraOrigin;
let proxy: PingoraProxies;

beforeAll(async () => {
  origin = await startPingoraOrigin();
  proxy = await startPingoraProxies(origin);
});
afterAll(closeAll);

/** GETs `path`, leaves the response unread until `stall()` (called on its head) settles, then reads it all. */
function download(
  path: string,
  headers: Record<string, string>,
  stall: () => Promise<unknown>,
): Promise<{ status: number; received: number; complete: boolean }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: proxy.http, path, headers, agent: false }, (res) => {
      let received = 0;
      res.pause();
      res.on('data', (c: Buffer) => (received += c.length));
      // Whether a cut response errors on the client differs across Node versions; `complete` does not.
      res.on('error', () => {});
      res.on('close', () => resolve({ status: res.statusCode!, received, complete: res.complete }));
      void stall().finally(() => res.resume());
    });
    req.on('error', reject);
  });
}

describe('Pingora test_upstream.rs', () => {
  it('test_upgrade_smoke: a 101 and the bytes after it reach the client', async () => {
    const c = rawClient(proxy.http);
    c.socket.write(
      'GET /upgrade HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
    );
    const head = await c.head();
    expect(head.status).toBe(101);
    expect(head.fields.get('upgrade')).toBe('websocket');
    expect(head.fields.get('connection')).toBe('upgrade');
    expect((await c.bytes(head.bodyStart, 6)).toString()).toBe('hello\n');
  });

  it('test_download_timeout_min_rate: with a minimum send rate, a 2 s stall is not cut by the 1 s write timeout', async () => {
    // Control: an unread 4 MiB download does block the proxy's writes, and without the minimum
    // rate the 1 s write timeout cuts it (awaited in the proxy's log: a paused client cannot see
    // its connection go).
    const cuts = () => proxy.logs.filter((l) => l.msg.includes('response write blocked for 1000 ms')).length;
    const before = cuts();
    // 64 MiB, not Pingora's 4: loopback receive buffers autotune up to 32 MiB here, so a smaller
    // body may never block the proxy's writes at all.
    const size = String(64 << 20);
    const control = await download('/download/', { 'x-write-timeout': '1', 'x-download-size': size }, () =>
      waitFor(() => cuts() > before, { message: 'the write timeout to cut the control download' }),
    );
    expect(control.complete).toBe(false);
    expect(control.received).toBeLessThan(64 << 20);
    // The case: the stall must outlast the write timeout that the minimum rate replaces, so it is
    // a deliberate pause (load only lengthens it, which cannot make this pass wrongly).
    const pause = () => new Promise((r) => setTimeout(r, 2_000));
    const r = await download(
      '/download/',
      { 'x-write-timeout': '1', 'x-min-rate': '10000', 'x-download-size': size },
      pause,
    );
    expect([r.status, r.received, r.complete]).toEqual([200, 64 << 20, true]);
  });

  it('test_head_with_100_continue: a 100 before the final answer to HEAD; no body follows', async () => {
    const up = await startRawOrigin((s) =>
      s.once('data', () =>
        s.write('HTTP/1.1 100 Continue\r\n\r\n', () =>
          s.write('HTTP/1.1 200 OK\r\nContent-Length: 42\r\n\r\n'),
        ),
      ),
    );
    const c = rawClient(proxy.http);
    c.socket.write(`HEAD / HTTP/1.1\r\nHost: localhost\r\nx-port: ${up.port}\r\nConnection: close\r\n\r\n`);
    const head = await c.head();
    expect(head.status).toBe(200);
    expect(head.fields.get('content-length')).toBe('42');
    await c.closed();
    expect(c.received.length).toBe(head.bodyStart);
  });
});
