import { readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { AddressList, addressFilter, main } from './connection-filter.js';
import { closeAll, onClose, origin, track } from './lib/testing.js';
import { TEST_CERTS } from './sni-certs.js';

afterEach(closeAll);

const REQUEST = 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';
const CA = readFileSync(join(TEST_CERTS, 'ca.pem'));

/** What a client bound to `localAddress` gets back for one request, and whether TLS completed. */
function exchange(
  port: number,
  localAddress: string,
  secure: boolean,
): Promise<{ received: string; handshake: boolean }> {
  return new Promise((resolve) => {
    let received = '';
    let handshake = false;
    const tcp = net.connect({ port, host: '127.0.0.1', localAddress });
    const socket = secure
      ? tls.connect({ socket: tcp, servername: 'localhost', ca: CA }, () => {
          handshake = true;
          socket.write(REQUEST);
        })
      : tcp.on('connect', () => tcp.write(REQUEST));
    tcp.on('error', () => {});
    onClose(() => socket.destroy());
    socket.on('data', (c: Buffer) => (received += c.toString('latin1')));
    socket.on('error', () => {});
    socket.on('close', () => resolve({ received, handshake }));
  });
}

describe('connection-filter example', () => {
  it('serves an allowed client and closes a blocked one with no response, on plain and TLS listeners', async () => {
    const o = await origin('filtered');
    const r = track(await main(0, 0, o.addr, { allow: ['127.0.0.0/8'], block: ['127.0.0.3/32'] }));
    for (const [port, secure] of [
      [r.ports[0]!, false],
      [r.tlsPort, true],
    ] as const) {
      const ok = await exchange(port, '127.0.0.1', secure);
      expect(ok.received).toMatch(/^HTTP\/1\.1 200 /);
      expect(ok.received).toContain('hello from filtered');
      const refused = await exchange(port, '127.0.0.3', secure);
      expect(refused).toEqual({ received: '', handshake: false });
    }
    expect(o.served).toBe(2);
  });

  it('a client outside the allow-list is refused even when not blocked', async () => {
    const o = await origin('filtered');
    const r = track(await main(0, 0, o.addr, { allow: ['127.0.0.1'] }));
    expect((await exchange(r.ports[0]!, '127.0.0.2', false)).received).toBe('');
    expect((await exchange(r.ports[0]!, '127.0.0.1', false)).received).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('matches CIDR ranges, IPv4-mapped addresses and IPv6, and refuses invalid entries', () => {
    const list = new AddressList(['10.0.0.0/8', '192.0.2.7', '2001:db8::/32']);
    expect(list.has('10.200.3.4')).toBe(true);
    expect(list.has('::ffff:10.1.1.1')).toBe(true);
    expect(list.has('11.0.0.1')).toBe(false);
    expect(list.has('192.0.2.7')).toBe(true);
    expect(list.has('192.0.2.8')).toBe(false);
    expect(list.has('2001:db8::1')).toBe(true);
    expect(list.has('2001:db9::1')).toBe(false);
    expect(() => new AddressList(['10.0.0.300/8'])).toThrow(TypeError);
    const f = addressFilter({ block: ['10.6.6.0/24'] });
    const at = (address: string) => ({ address, port: 1, family: 'IPv4' }) as Parameters<typeof f>[0];
    expect(f(at('10.6.6.9'))).toBe(false);
    expect(f(at('10.6.7.9'))).toBe(true);
  });
});
