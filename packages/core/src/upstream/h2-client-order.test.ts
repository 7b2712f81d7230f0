/**
 * The order of an HTTP/2 upstream response's events over TLS: its head always reaches the
 * handler before its body, even when node:http2 parses both in one go.
 */
import { readFileSync } from 'node:fs';
import type net from 'node:net';
import { dirname, join } from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { RequestHeader } from '@pingora-ts/http';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DATA,
  END_HEADERS,
  END_STREAM,
  frame,
  HEADERS,
  headerBlock,
  PREFACE,
  parseFrames,
  SETTINGS,
} from '../../test/h2-frames.js';
import { Connector } from './connector.js';
import { HttpPeer } from './peer.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../../../tls-openssl/test/fixtures');
const fx = (name: string) => readFileSync(join(FIXTURES, name));
const WINDOW_UPDATE = 0x8;

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

function newConnector(): Connector {
  const c = new Connector();
  cleanups.push(() => c.close());
  return c;
}

describe('HTTP/2 upstream response order', () => {
  it('over TLS, a body parsed in the same go as its head reaches the handler after the head', async () => {
    // node:http2 emits 'response' on a later tick but hands out DATA as it parses it. A TLS session
    // with a write in progress stops parsing at a DATA frame and parses the rest when the write
    // completes, where HEADERS and DATA of another stream then go through in one go: a flowing
    // stream gave its body before its head (a proxy then answered with a bare 200 and lost the
    // gRPC trailers). A raw origin stalls the client's upload to get exactly that.
    // SETTINGS_INITIAL_WINDOW_SIZE and a connection WINDOW_UPDATE to the maximum: the upload only
    // ever waits for the socket.
    const initialWindow = Buffer.from([0, 4, 0x7f, 0xff, 0xff, 0xff]);
    const connWindow = Buffer.alloc(4);
    connWindow.writeUInt32BE(0x7fffffff - 65535);
    const sockets = new Set<tls.TLSSocket>();
    const origin = tls.createServer(
      { cert: fx('origin.test.pem'), key: fx('origin.test.key'), ALPNProtocols: ['h2'] },
      (sock) => {
        sockets.add(sock);
        sock.on('error', () => {});
        sock.write(
          Buffer.concat([frame(SETTINGS, 0, 0, initialWindow), frame(WINDOW_UPDATE, 0, 0, connWindow)]),
        );
        let buf = Buffer.alloc(0);
        sock.on('data', function read(c: Buffer) {
          buf = Buffer.concat([buf, c]);
          if (buf.length < PREFACE.length) return;
          const frames = parseFrames(buf.subarray(PREFACE.length));
          const heads = frames.filter((f) => f.type === HEADERS);
          if (heads.length < 2) return;
          // Stream `small` waits for its answer; `upload` gets its head, then its upload stalls.
          const [small, upload] = [heads[0]!.streamId, heads[1]!.streamId];
          sock.off('data', read);
          sock.pause();
          sock.write(
            Buffer.concat([
              frame(SETTINGS, 1, 0),
              frame(HEADERS, END_HEADERS, upload, headerBlock([[':status', '200']])),
            ]),
          );
          setTimeout(() => {
            sock.write(
              Buffer.concat([
                frame(DATA, 0, upload, Buffer.from('x')),
                frame(
                  HEADERS,
                  END_HEADERS,
                  small,
                  headerBlock([
                    [':status', '200'],
                    ['content-type', 'application/grpc'],
                  ]),
                ),
                frame(DATA, 0, small, Buffer.from('hello')),
                frame(HEADERS, END_HEADERS | END_STREAM, small, headerBlock([['grpc-status', '0']])),
              ]),
            );
            // Reading again completes the client's write, which parses the rest.
            setTimeout(() => sock.resume().on('data', () => {}), 50);
          }, 100);
        });
      },
    );
    await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
    cleanups.push(() => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => origin.close(r));
    });
    const c = newConnector();
    const peer = new HttpPeer(`127.0.0.1:${(origin.address() as net.AddressInfo).port}`, true, 'origin.test');
    peer.options.ca = fx('ca.pem');
    peer.options.alpn = 'h2';
    peer.options.maxH2Streams = 2;
    const timeouts = { readTimeout: undefined, writeTimeout: undefined };
    const ignore = {
      onResponseHeader() {},
      onResponseBody() {},
      onResponseTrailers() {},
      onResponseEnd() {},
      onError() {},
    };

    const [small] = await c.getHttpSession(peer);
    const events: string[] = [];
    const done = new Promise<void>((resolve, reject) => {
      const req = RequestHeader.build('GET', '/small');
      req.insertHeader('Host', 'origin.test');
      small.sendRequest(
        req,
        {
          onResponseHeader: () => events.push('head'),
          onResponseBody: (b) => events.push(`body ${b}`),
          onResponseTrailers: (t) => events.push(`trailers ${t.join(' ')}`),
          onResponseEnd: () => resolve(),
          onError: reject,
        },
        'none',
        timeouts,
      );
    });
    const [upload, reused] = await c.getHttpSession(peer);
    expect(reused).toBe(true);
    const req = RequestHeader.build('POST', '/upload');
    req.insertHeader('Host', 'origin.test');
    upload.sendRequest(req, ignore, 'stream', timeouts);
    const chunk = Buffer.alloc(64 * 1024);
    let left = 1024; // more than the socket buffers hold while the origin does not read
    const pump = (): void => {
      while (left-- > 0) {
        if (!upload.writeBody(chunk)) {
          upload.onDrain(pump);
          return;
        }
      }
    };
    pump();

    await done;
    // Trailers may be reported before a body still buffered behind them; they apply at the end.
    expect(events[0]).toBe('head');
    expect(events).toContain('body hello');
    expect(events).toContain('trailers grpc-status 0');
    upload.destroy();
    c.releaseHttpSession(small, peer);
  });
});
