import { once } from 'node:events';
import * as net from 'node:net';
import { ErrorType, PingoraError } from '@pingora-ts/error';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  bindListener,
  formatAddress,
  ListenerConfig,
  parseTcpAddress,
  reusePortSupported,
} from './listener.js';

const servers: net.Server[] = [];
afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

function track(s: net.Server): net.Server {
  servers.push(s);
  return s;
}

async function occupied(): Promise<number> {
  const s = track(net.createServer());
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  return (s.address() as net.AddressInfo).port;
}

describe('parseTcpAddress', () => {
  it.each([
    ['0.0.0.0:6188', '0.0.0.0', 6188],
    ['[::1]:8080', '::1', 8080],
    ['[::]:0', '::', 0],
    ['localhost:0', 'localhost', 0],
    ['example.com:65535', 'example.com', 65535],
  ])('parses %s', (addr, host, port) => {
    expect(parseTcpAddress(addr)).toEqual({ host, port });
  });

  it.each([
    ['6188', 'expected "host:port"'],
    ['::1:8080', 'put IPv6 addresses in brackets'],
    ['[::1]8080', 'expected "[ipv6]:port"'],
    ['[nope]:80', 'is not an IPv6 address'],
    [':8080', 'missing host'],
    ['127.0.0.1:http', '"http" is not a port number'],
    ['127.0.0.1:65536', 'is not a port number'],
    ['127.0.0.1:', 'is not a port number'],
  ])('rejects %s as a BindError naming it', (addr, why) => {
    let err: unknown;
    try {
      parseTcpAddress(addr);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PingoraError);
    expect((err as PingoraError).type).toBe(ErrorType.BindError);
    expect((err as PingoraError).message).toContain(`"${addr}"`);
    expect((err as PingoraError).message).toContain(why);
  });

  it('ListenerConfig.tcp validates the address at once', () => {
    expect(() => ListenerConfig.tcp('nope')).toThrow(/invalid listen address "nope"/);
    expect(ListenerConfig.uds('/tmp/x.sock')).toEqual({ kind: 'uds', path: '/tmp/x.sock', mode: 0o666 });
  });
});

describe('formatAddress', () => {
  it('prints Pingora-style addresses', () => {
    expect(formatAddress({ kind: 'tcp', address: '127.0.0.1', port: 80, family: 'IPv4' })).toBe(
      '127.0.0.1:80',
    );
    expect(formatAddress({ kind: 'tcp', address: '::1', port: 80, family: 'IPv6' })).toBe('[::1]:80');
    expect(formatAddress({ kind: 'uds', path: '/tmp/a.sock' })).toBe('/tmp/a.sock');
  });
});

describe('bindListener', () => {
  it('throws a BindError naming the address when the port is taken (no retries)', async () => {
    const port = await occupied();
    const s = track(net.createServer());
    const err = await bindListener(
      s,
      ListenerConfig.tcp(`127.0.0.1:${port}`),
      { retries: 0, delayMs: 0 },
      () => Promise.resolve(),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PingoraError);
    expect((err as PingoraError).type).toBe(ErrorType.BindError);
    expect((err as PingoraError).message).toBe(
      `cannot listen on 127.0.0.1:${port}: address already in use (EADDRINUSE)`,
    );
    expect(((err as PingoraError).cause as NodeJS.ErrnoException).code).toBe('EADDRINUSE');
  });

  it('retries EADDRINUSE and succeeds once the port is free', async () => {
    const port = await occupied();
    const holder = servers[0]!;
    const delays: number[] = [];
    const sleep = async (ms: number) => {
      delays.push(ms);
      // The holder goes away during the second wait.
      if (delays.length === 2) await new Promise((r) => holder.close(r));
    };
    const s = track(net.createServer());
    await bindListener(s, ListenerConfig.tcp(`127.0.0.1:${port}`), { retries: 5, delayMs: 250 }, sleep);
    expect((s.address() as net.AddressInfo).port).toBe(port);
    expect(delays).toEqual([250, 250]);
  });

  it('gives up after the configured retries', async () => {
    const port = await occupied();
    let waits = 0;
    const s = track(net.createServer());
    const err = await bindListener(
      s,
      ListenerConfig.tcp(`127.0.0.1:${port}`),
      { retries: 3, delayMs: 1 },
      async () => {
        waits++;
      },
    ).catch((e: unknown) => e);
    expect(waits).toBe(3);
    expect((err as PingoraError).type).toBe(ErrorType.BindError);
  });

  it('reports whether reusePort is honoured by this Node', () => {
    const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
    const newEnough = major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
    const platform = ['linux', 'freebsd', 'sunos', 'aix'].includes(process.platform);
    expect(reusePortSupported).toBe(newEnough && platform);
    if (major === 20) expect(reusePortSupported).toBe(false);
  });
});
