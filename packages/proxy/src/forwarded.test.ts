import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, rawRequest, startOrigin, startProxy } from '../test/helpers.js';
import { TrustedProxies, clientIp, setForwardedHeaders } from './forwarded.js';

afterEach(closeAll);

async function forwardedSeen(trusted: TrustedProxies, requestHeaders: string, forwarded = false) {
  let seen: Record<string, string | string[] | undefined> = {};
  let ip: string | undefined;
  const origin = await startOrigin((req, res) => {
    seen = req.headers;
    res.end();
  });
  const p = await startProxy({
    upstreamPeer: () => origin.peer(),
    upstreamRequestFilter(session, up) {
      ip = clientIp(session, trusted);
      setForwardedHeaders(session, up, { trusted, forwarded });
    },
  });
  await rawRequest(
    p.port,
    `GET / HTTP/1.1\r\nHost: app.example\r\n${requestHeaders}Connection: close\r\n\r\n`,
  );
  return { seen, ip };
}

describe('forwarding headers', () => {
  it('overwrites spoofed X-Forwarded-* from an untrusted client', async () => {
    const { seen, ip } = await forwardedSeen(
      new TrustedProxies(['10.0.0.0/8']),
      'X-Forwarded-For: 6.6.6.6\r\nX-Forwarded-Host: evil\r\n',
    );
    expect(seen['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen['x-forwarded-host']).toBe('app.example');
    expect(seen['x-forwarded-proto']).toBe('http');
    expect(ip).toBe('127.0.0.1');
  });

  it('appends to the chain from a trusted proxy and resolves the real client', async () => {
    const { seen, ip } = await forwardedSeen(
      new TrustedProxies(['127.0.0.1', '10.0.0.0/8']),
      'X-Forwarded-For: 203.0.113.7, 10.1.2.3\r\n',
      true,
    );
    expect(seen['x-forwarded-for']).toBe('203.0.113.7, 10.1.2.3, 127.0.0.1');
    expect(seen.forwarded).toBe('for=127.0.0.1;proto=http;host="app.example"');
    expect(ip).toBe('203.0.113.7');
  });

  it('validates CIDR entries and matches IPv4-mapped IPv6 peers', () => {
    expect(() => new TrustedProxies(['10.0.0.0/33'])).toThrow(/prefix length/);
    expect(() => new TrustedProxies(['nope'])).toThrow(/invalid address/);
    const t = new TrustedProxies(['192.168.0.0/16', '::1']);
    expect(t.has('::ffff:192.168.1.9')).toBe(true);
    expect(t.has('::1')).toBe(true);
    expect(t.has('192.169.0.1')).toBe(false);
    expect(new TrustedProxies().has('127.0.0.1')).toBe(false);
  });
});
