import { gunzipSync } from 'node:zlib';
import { HttpPeer } from '@pingora-ts/core';
import { accessLogRecord, type ProxyHttp } from '@pingora-ts/proxy';
import { closeAll, deadPort, request, waitFor } from '@pingora-ts/test-utils';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { ProxyMetrics, withProxyMetrics } from '../src/index.js';
import { startMetrics, startOrigin, startProxy } from './helpers.js';
import { scrape } from './scrape.js';

afterEach(closeAll);

async function value(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  // A histogram's `_count` series lives under the histogram's own name.
  const base = name.replace(/_count$/, '');
  const metric = registry.getSingleMetric(name) ?? registry.getSingleMetric(base);
  if (metric === undefined) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  const hit = values.find((v) => {
    const series = 'metricName' in v && typeof v.metricName === 'string' ? v.metricName : name;
    return series === name && Object.entries(labels).every(([k, l]) => String(v.labels[k]) === l);
  });
  return hit?.value ?? 0;
}

describe('ProxyMetrics', () => {
  it('counts proxied requests, errors and upstream connections, and serves them for scraping', async () => {
    const registry = new Registry();
    const metrics = new ProxyMetrics({ registry });
    const origin = await startOrigin((_req, res) => res.end('ok'));
    const dead = await deadPort();
    const seenByUser: number[] = [];
    const inner: ProxyHttp = {
      upstreamPeer: (session) =>
        session.reqHeader().uri === '/dead' ? new HttpPeer(`127.0.0.1:${dead}`, false, '') : origin.peer(),
      logging(session) {
        seenByUser.push(session.responseWritten()?.status ?? 0);
      },
    };
    const url = await startProxy(withProxyMetrics(inner, metrics));

    expect((await request(url('/'))).status).toBe(200);
    expect((await request(url('/dead'))).status).toBe(502);
    await waitFor(
      async () => (await value(registry, 'http_server_requests_total', {})) > 0 && seenByUser.length === 2,
      {
        message: 'both requests logged',
      },
    );
    await waitFor(
      async () =>
        (await value(registry, 'http_server_requests_total', { http_response_status_class: '5xx' })) === 1,
      { message: 'the 502 counted' },
    );

    const ok = { http_request_method: 'GET', network_protocol_version: '1.1' };
    expect(
      await value(registry, 'http_server_requests_total', { ...ok, http_response_status_class: '2xx' }),
    ).toBe(1);
    expect(
      await value(registry, 'http_server_requests_total', { ...ok, http_response_status_class: '5xx' }),
    ).toBe(1);
    expect(
      await value(registry, 'http_server_request_duration_seconds_count', {
        ...ok,
        http_response_status_code: '200',
      }),
    ).toBe(1);
    expect(
      await value(registry, 'http_server_request_duration_seconds_count', {
        ...ok,
        http_response_status_code: '502',
      }),
    ).toBe(1);
    expect(seenByUser.sort()).toEqual([200, 502]);
    // Only the 200 reached an origin and got a first byte; the dead port never connected.
    expect(await value(registry, 'pingora_upstream_first_byte_duration_seconds_count')).toBe(1);
    expect(await value(registry, 'pingora_upstream_connect_duration_seconds_count')).toBe(1);
    expect(await value(registry, 'pingora_upstream_connections_reused_total')).toBe(0);
    expect(await value(registry, 'pingora_upstream_connections_new_total')).toBe(2);
    expect(await value(registry, 'pingora_cache_requests_total')).toBe(0);
    expect(await value(registry, 'pingora_retries_total')).toBe(0);

    const port = await startMetrics(registry);
    const plain = await scrape(port);
    expect(plain.status).toBe(200);
    expect(plain.headers['content-type']).toBe(registry.contentType);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(Number(plain.headers['content-length'])).toBe(plain.body.length);
    const text = plain.body.toString();
    expect(text).toContain(
      'http_server_requests_total{http_request_method="GET",http_response_status_class="2xx",network_protocol_version="1.1"} 1',
    );
    expect(text).toContain('# TYPE http_server_request_duration_seconds histogram');
    expect(text).toContain('http_server_request_duration_seconds_bucket{le="10",');
    expect(text).toContain('pingora_upstream_connections_new_total 2');

    const zipped = await scrape(port, { 'Accept-Encoding': 'gzip' });
    expect(zipped.status).toBe(200);
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zipped.headers['content-type']).toBe(registry.contentType);
    expect(gunzipSync(zipped.body).toString()).toBe(text);
  });

  it('counts a retry and a reused upstream connection', async () => {
    const registry = new Registry();
    const metrics = new ProxyMetrics({ registry });
    const origin = await startOrigin((_req, res) => res.end('ok'));
    const dead = await deadPort();
    const inner: ProxyHttp<{ tries: number }> = {
      newCtx: () => ({ tries: 0 }),
      upstreamPeer: (_session, ctx) =>
        ctx.tries++ === 0 ? new HttpPeer(`127.0.0.1:${dead}`, false, '') : origin.peer(),
      failToConnect: (_session, _peer, ctx, error) => {
        if (ctx.tries === 1) error.setRetry(true);
        return error;
      },
      logging: (session, error) => {
        metrics.observe(session, error);
      },
    };
    const url = await startProxy(inner);
    expect((await request(url('/'))).status).toBe(200);
    await waitFor(async () => (await value(registry, 'http_server_requests_total')) === 1, {
      message: 'first request counted',
    });
    expect(await value(registry, 'pingora_retries_total')).toBe(1);

    // The origin's connection went back to the pool; the next request takes it.
    await waitFor(
      async () =>
        (await request(url('/'))).status === 200 &&
        (await value(registry, 'pingora_upstream_connections_reused_total')) >= 1,
      {
        message: 'a pooled upstream connection reused',
      },
    );
  });

  it('counts the same from the session as from an access-log record', async () => {
    const direct = new ProxyMetrics({ registry: new Registry() });
    const fromRecord = new ProxyMetrics({ registry: new Registry() });
    const origin = await startOrigin((_req, res) => res.end('ok'));
    const dead = await deadPort();
    let logged = 0;
    const inner: ProxyHttp<{ tries: number }> = {
      newCtx: () => ({ tries: 0 }),
      upstreamPeer: (session, ctx) =>
        session.reqHeader().uri === '/retry' && ctx.tries++ === 0
          ? new HttpPeer(`127.0.0.1:${dead}`, false, '')
          : session.reqHeader().uri === '/dead'
            ? new HttpPeer(`127.0.0.1:${dead}`, false, '')
            : origin.peer(),
      failToConnect: (session, _peer, ctx, error) => {
        if (session.reqHeader().uri === '/retry' && ctx.tries === 1) error.setRetry(true);
        return error;
      },
      logging(session, error) {
        direct.observe(session, error);
        fromRecord.observeRecord(accessLogRecord(session, error), session.reqHeader().version);
        logged++;
      },
    };
    const url = await startProxy(inner);
    for (const path of ['/', '/', '/dead', '/retry']) await request(url(path));
    await waitFor(() => logged === 4, { message: 'four requests logged' });
    // Durations are read at slightly different moments; every count must match.
    const counts = async (m: ProxyMetrics) =>
      (await m.registry.metrics()).split('\n').filter((l) => /_count|_total/.test(l) && !l.startsWith('#'));
    const seen = await counts(direct);
    expect(seen).toEqual(await counts(fromRecord));
    expect(seen).toContain('pingora_retries_total 1');
    expect(seen).toContain('pingora_upstream_first_byte_duration_seconds_count 3');
  });

  it('shares metrics between two instances on one registry', async () => {
    const registry = new Registry();
    const a = new ProxyMetrics({ registry });
    const b = new ProxyMetrics({ registry });
    expect(b.requests).toBe(a.requests);
    expect(b.requestDuration).toBe(a.requestDuration);
    a.retries.inc(2);
    expect(await value(registry, 'pingora_retries_total')).toBe(2);
  });
});
