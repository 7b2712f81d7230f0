import { promises as dns } from 'node:dns';
import { ShutdownController } from '@pingora-ts/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { closeAll, type DnsZone, deadPort, memoryLogger, startDnsServer } from '../test/helpers.js';
import { Backends } from './backends.js';
import { Static } from './discovery.js';
import { type DnsRecord, DnsDiscovery, resolveAllRecords } from './dns-discovery.js';
import { LoadBalancer } from './load-balancer.js';
import { RoundRobin } from './selection/weighted.js';

afterEach(async () => {
  vi.useRealTimers();
  await closeAll();
});

describe('DnsDiscovery with an injected lookup', () => {
  it('one backend per record; the refresh interval is the shortest TTL, clamped', async () => {
    let records: DnsRecord[] = [
      { address: '10.0.0.1', ttl: 30 },
      { address: '2001:db8::1', ttl: 60 },
    ];
    const d = new DnsDiscovery('api.internal', 8080, { lookup: async () => records, weight: 2 });
    const found = await d.discover();
    expect([...found.backends].map((b) => `${b.addr} w${b.weight}`)).toEqual([
      '10.0.0.1:8080 w2',
      '[2001:db8::1]:8080 w2',
    ]);
    expect(d.nextUpdateIn()).toBe(30_000);
    records = [{ address: '10.0.0.1', ttl: 0 }];
    await d.discover();
    expect(d.nextUpdateIn()).toBe(1_000);
    records = [{ address: '10.0.0.1', ttl: 86_400 }];
    await d.discover();
    expect(d.nextUpdateIn()).toBe(300_000);
  });

  it('a load balancer follows a changed record when its TTL runs out (fake timers)', async () => {
    vi.useFakeTimers({ now: 0 });
    let records: DnsRecord[] = [
      { address: '10.0.0.1', ttl: 10 },
      { address: '10.0.0.2', ttl: 10 },
    ];
    const lookups: number[] = [];
    const d = new DnsDiscovery('app.svc', 80, {
      lookup: async () => {
        lookups.push(Date.now());
        return records;
      },
    });
    const lb = LoadBalancer.fromBackends(RoundRobin, new Backends(d, { logger: memoryLogger() }));
    const ctl = new ShutdownController();
    const running = lb.start(ctl.watch);
    await vi.advanceTimersByTimeAsync(0);
    expect(
      lb
        .backends()
        .getBackends()
        .map((b) => b.addr),
    ).toEqual(['10.0.0.1:80', '10.0.0.2:80']);
    // A rolling deploy replaces .2 with .3; nothing changes until the TTL expires.
    records = [
      { address: '10.0.0.1', ttl: 10 },
      { address: '10.0.0.3', ttl: 10 },
    ];
    await vi.advanceTimersByTimeAsync(9_000);
    expect(
      lb
        .backends()
        .getBackends()
        .map((b) => b.addr),
    ).toContain('10.0.0.2:80');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(
      lb
        .backends()
        .getBackends()
        .map((b) => b.addr),
    ).toEqual(['10.0.0.1:80', '10.0.0.3:80']);
    expect(lookups).toEqual([0, 10_000]);
    const picks = new Set(Array.from({ length: 4 }, () => lb.select('', 256)?.addr));
    expect([...picks].sort()).toEqual(['10.0.0.1:80', '10.0.0.3:80']);
    ctl.shutdown(true);
    await running;
  });

  it('a failed or empty resolution keeps the previous backends and retries after errorRetry', async () => {
    vi.useFakeTimers({ now: 0 });
    let answer: () => Promise<DnsRecord[]> = async () => [{ address: '10.0.0.1', ttl: 5 }];
    const d = new DnsDiscovery('app.svc', 80, { lookup: () => answer(), errorRetry: 2_000 });
    const logger = memoryLogger();
    const lb = LoadBalancer.fromBackends(RoundRobin, new Backends(d, { logger }));
    const ctl = new ShutdownController();
    const running = lb.start(ctl.watch);
    await vi.advanceTimersByTimeAsync(0);
    answer = async () => [];
    await vi.advanceTimersByTimeAsync(5_000);
    expect(d.nextUpdateIn()).toBe(2_000);
    expect(
      lb
        .backends()
        .getBackends()
        .map((b) => b.addr),
    ).toEqual(['10.0.0.1:80']);
    answer = async () => [{ address: '10.0.0.9', ttl: 5 }];
    await vi.advanceTimersByTimeAsync(2_000);
    expect(
      lb
        .backends()
        .getBackends()
        .map((b) => b.addr),
    ).toEqual(['10.0.0.9:80']);
    expect(logger.lines.filter((l) => l.msg.includes('service discovery failed'))).toHaveLength(1);
    ctl.shutdown(true);
    await running;
  });

  it('an IP literal needs no lookup and never refreshes', async () => {
    const d = new DnsDiscovery('::1', 9000, { lookup: () => Promise.reject(new Error('not called')) });
    expect([...(await d.discover()).backends].map((b) => b.addr)).toEqual(['[::1]:9000']);
    expect(d.nextUpdateIn()).toBeUndefined();
  });
});

describe('resolveAllRecords (the default lookup) against a real DNS server on 127.0.0.1', () => {
  it('returns every A and AAAA record with its TTL and follows changes', async () => {
    const zone: DnsZone = new Map([
      [
        'api.test',
        [
          { type: 'A', address: '10.1.0.1', ttl: 42 },
          { type: 'A', address: '10.1.0.2', ttl: 42 },
          { type: 'AAAA', address: 'fd00::1', ttl: 7 },
        ],
      ],
      ['v4only.test', [{ type: 'A', address: '10.2.0.1', ttl: 3 }]],
    ]);
    const { server, queries } = await startDnsServer(zone);
    const resolver = new dns.Resolver({ timeout: 1_000, tries: 1 });
    resolver.setServers([server]);
    const got = await resolveAllRecords('api.test', resolver);
    expect(got).toEqual([
      { address: '10.1.0.1', ttl: 42 },
      { address: '10.1.0.2', ttl: 42 },
      { address: 'fd00::1', ttl: 7 },
    ]);
    expect(queries.sort()).toEqual(['A api.test', 'AAAA api.test']);
    // NODATA for AAAA is not an error.
    expect(await resolveAllRecords('v4only.test', resolver)).toEqual([{ address: '10.2.0.1', ttl: 3 }]);

    const d = new DnsDiscovery('api.test', 443, { resolver });
    expect([...(await d.discover()).backends].map((b) => b.addr)).toEqual([
      '10.1.0.1:443',
      '10.1.0.2:443',
      '[fd00::1]:443',
    ]);
    expect(d.nextUpdateIn()).toBe(7_000);
    zone.set('api.test', [{ type: 'A', address: '10.1.0.3', ttl: 42 }]);
    expect([...(await d.discover()).backends].map((b) => b.addr)).toEqual(['10.1.0.3:443']);
  });

  it('a name DNS does not know falls back to the hosts file (localhost → every address)', async () => {
    const { server } = await startDnsServer(new Map());
    const resolver = new dns.Resolver({ timeout: 1_000, tries: 1 });
    resolver.setServers([server]);
    const got = await resolveAllRecords('localhost', resolver);
    expect(got.length).toBeGreaterThan(0);
    expect(got.every((r) => ['127.0.0.1', '::1'].includes(r.address) && r.ttl === 30)).toBe(true);
  });

  it('a DNS server that cannot be reached is an error, without a hosts-file fallback', async () => {
    const resolver = new dns.Resolver({ timeout: 200, tries: 1 });
    resolver.setServers([`127.0.0.1:${await deadPort()}`]);
    await expect(resolveAllRecords('localhost', resolver)).rejects.toThrow(/DNS: no address for localhost/);
  });
});

describe('Static.resolve', () => {
  it('turns a host name into one backend per address; IP literals pass through', async () => {
    const s = await Static.resolve(['localhost:3000', '10.0.0.1:80', '[::1]:81'], async (h) => {
      expect(h).toBe('localhost');
      return ['::1', '127.0.0.1'];
    });
    expect(s.get().map((b) => b.addr)).toEqual(['10.0.0.1:80', '127.0.0.1:3000', '[::1]:81', '[::1]:3000']);
    await expect(
      Static.resolve(['nowhere.invalid:1'], () => Promise.reject(new Error('ENOTFOUND'))),
    ).rejects.toThrow(/cannot resolve nowhere.invalid/);
  });

  it('tryFromIter refuses host names, pointing to resolve()', () => {
    expect(() => Static.tryFromIter(['localhost:80'])).toThrow(/host names are not resolved here/);
  });
});
