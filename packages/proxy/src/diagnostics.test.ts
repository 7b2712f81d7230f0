/**
 * The proxy's diagnostics_channel events over real sockets: their order and fields for a success,
 * a retried connect failure, an origin's 502, a connect failure that is not retried, a client
 * that leaves mid-body, and a subscriber adding a header to the upstream request.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import http from 'node:http';
import { HttpPeer } from '@pingora-ts/core';
import { deadPort } from '@pingora-ts/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import {
  PROXY_CHANNELS,
  type ProxyRequestEndMessage,
  type ProxyRequestStartMessage,
  type ProxyUpstreamConnectedMessage,
  type ProxyUpstreamEndMessage,
  type ProxyUpstreamErrorMessage,
  type ProxyUpstreamHeadersMessage,
  type ProxyUpstreamStartMessage,
  subscribeProxyDiagnostics,
} from '../src/index.js';
import { closeAllH2, h2connect, h2fetch, startH2cProxy } from '../test/h2.js';
import { closeAll, request, startOrigin, startProxy, waitFor } from '../test/helpers.js';

type Event = { name: keyof typeof PROXY_CHANNELS; msg: Record<string, unknown> };

const stops: Array<() => void> = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) stop();
  await closeAllH2();
  await closeAll();
});

/** Records every proxy event in order, until the test ends. */
function record(): Event[] {
  const events: Event[] = [];
  const handlers: Record<string, (m: unknown) => void> = {};
  for (const name of Object.keys(PROXY_CHANNELS) as Array<keyof typeof PROXY_CHANNELS>) {
    handlers[name] = (m) => events.push({ name, msg: m as Record<string, unknown> });
  }
  stops.push(subscribeProxyDiagnostics(handlers));
  return events;
}

const names = (events: Event[]) => events.map((e) => (e.msg.attempt ? `${e.name}#${e.msg.attempt}` : e.name));
const one = <T>(events: Event[], name: Event['name']): T => {
  const found = events.filter((e) => e.name === name);
  expect(found).toHaveLength(1);
  return found[0]!.msg as T;
};
const ended = (events: Event[]) => waitFor(() => events.some((e) => e.name === 'requestEnd'));

describe('diagnostics channels', () => {
  it('a proxied request: start, one attempt (connected, request, headers, end), end', async () => {
    const origin = await startOrigin((_req, res) => res.end('hello'));
    const p = await startProxy({ upstreamPeer: () => origin.peer() });
    const events = record();
    const r = await request(p.url('/a?b=1'), { headers: { host: 'example.test' } });
    expect(r.body).toBe('hello');
    await ended(events);
    expect(names(events)).toEqual([
      'requestStart',
      'upstreamStart#1',
      'upstreamConnected#1',
      'upstreamRequest#1',
      'upstreamHeaders#1',
      'upstreamEnd#1',
      'requestEnd',
    ]);
    const session = events[0]!.msg.session;
    expect(events.every((e) => e.msg.session === session)).toBe(true);
    const start = one<ProxyRequestStartMessage>(events, 'requestStart');
    expect(start).toMatchObject({ method: 'GET', path: '/a?b=1', host: 'example.test', httpVersion: '1.1' });
    expect(start.tls).toBe(false);
    expect(start.background).toBe(false);
    const up = one<ProxyUpstreamStartMessage>(events, 'upstreamStart');
    expect(up).toMatchObject({ address: `127.0.0.1:${origin.port}`, scheme: 'http', attempt: 1 });
    const conn = one<ProxyUpstreamConnectedMessage>(events, 'upstreamConnected');
    expect(conn).toMatchObject({ reused: false, httpVersion: 1 });
    expect(conn.connect).toBeGreaterThan(0);
    const head = one<ProxyUpstreamHeadersMessage>(events, 'upstreamHeaders');
    expect(head.status).toBe(200);
    expect(head.firstByte).toBeGreaterThanOrEqual(0);
    const upEnd = one<ProxyUpstreamEndMessage>(events, 'upstreamEnd');
    expect(upEnd.bodyBytes).toBe(5);
    expect(upEnd.total).toBeGreaterThan(0);
    const end = one<ProxyRequestEndMessage>(events, 'requestEnd');
    expect(end.error).toBeUndefined();
    expect(end.record).toMatchObject({ status: 200, path: '/a?b=1', retries: 0, aborted: false });
    expect(end.record.upstream).toBe(`127.0.0.1:${origin.port}`);

    // A second request on the pooled connection says so.
    await request(p.url('/'));
    await waitFor(() => events.filter((e) => e.name === 'requestEnd').length === 2);
    const second = events.filter((e) => e.name === 'upstreamConnected')[1]!.msg;
    expect(second).toMatchObject({ reused: true, connect: 0 });
  });

  it('a retry: each attempt is its own start/error or start/end pair', async () => {
    const dead = await deadPort();
    const origin = await startOrigin((_req, res) => res.end('second'));
    const p = await startProxy<{ n: number }>({
      newCtx: () => ({ n: 0 }),
      upstreamPeer: (_s, ctx) =>
        ctx.n++ === 0 ? new HttpPeer(`127.0.0.1:${dead}`, false, '') : origin.peer(),
      failToConnect: (_s, _p, _c, e) => e.setRetry(true),
    });
    const events = record();
    expect((await request(p.url('/'))).body).toBe('second');
    await ended(events);
    expect(names(events)).toEqual([
      'requestStart',
      'upstreamStart#1',
      'upstreamError#1',
      'upstreamStart#2',
      'upstreamConnected#2',
      'upstreamRequest#2',
      'upstreamHeaders#2',
      'upstreamEnd#2',
      'requestEnd',
    ]);
    const err = one<ProxyUpstreamErrorMessage>(events, 'upstreamError');
    expect(err.stage).toBe('connect');
    expect(String(err.peer.address)).toBe(`127.0.0.1:${dead}`);
    expect(err.error.type.name).toBe('ConnectRefused');
    expect(err.error.retry()).toBe(true);
    expect(one<ProxyRequestEndMessage>(events, 'requestEnd').record).toMatchObject({
      status: 200,
      retries: 1,
    });
  });

  it("an origin's 502 is a response: upstream end, request status 502, no error", async () => {
    const origin = await startOrigin((_req, res) => {
      res.statusCode = 502;
      res.end('bad');
    });
    const p = await startProxy({ upstreamPeer: () => origin.peer() });
    const events = record();
    expect((await request(p.url('/'))).status).toBe(502);
    await ended(events);
    expect(one<ProxyUpstreamHeadersMessage>(events, 'upstreamHeaders').status).toBe(502);
    expect(events.some((e) => e.name === 'upstreamError')).toBe(false);
    const end = one<ProxyRequestEndMessage>(events, 'requestEnd');
    expect(end.error).toBeUndefined();
    expect(end.record.status).toBe(502);
  });

  it('a connect failure that is not retried: upstream error, then the request ends with 502 and the error', async () => {
    const dead = await deadPort();
    const p = await startProxy({ upstreamPeer: () => new HttpPeer(`127.0.0.1:${dead}`, false, '') });
    const events = record();
    expect((await request(p.url('/'))).status).toBe(502);
    await ended(events);
    expect(names(events)).toEqual(['requestStart', 'upstreamStart#1', 'upstreamError#1', 'requestEnd']);
    const err = one<ProxyUpstreamErrorMessage>(events, 'upstreamError');
    expect(err.error.retry()).toBe(false);
    const end = one<ProxyRequestEndMessage>(events, 'requestEnd');
    expect(end.error).toBe(err.error);
    expect(end.record.status).toBe(502);
  });

  it('a client that leaves mid-body: the attempt ends with the downstream error, the request with 499', async () => {
    let originRes: http.ServerResponse | undefined;
    const origin = await startOrigin((_req, res) => {
      originRes = res;
      res.writeHead(200, { 'content-length': '1000' });
      res.write('x'.repeat(100));
    });
    const p = await startProxy({ upstreamPeer: () => origin.peer() });
    const events = record();
    await new Promise<void>((resolve) => {
      const req = http.get(p.url('/slow'), { agent: false }, (res) => {
        res.once('data', () => req.destroy());
        res.on('error', () => {});
        res.on('close', () => resolve());
      });
      req.on('error', () => resolve());
    });
    await ended(events);
    expect(originRes).toBeDefined();
    expect(names(events)).toEqual([
      'requestStart',
      'upstreamStart#1',
      'upstreamConnected#1',
      'upstreamRequest#1',
      'upstreamHeaders#1',
      'upstreamError#1',
      'requestEnd',
    ]);
    const err = one<ProxyUpstreamErrorMessage>(events, 'upstreamError');
    expect(err.stage).toBe('request');
    expect(err.error.source).toBe('Downstream');
    const end = one<ProxyRequestEndMessage>(events, 'requestEnd');
    expect(end.record.status).toBe(499);
    expect(end.error).toBe(err.error);
  });

  it('an upstream:request subscriber adds a header that the origin receives; unsubscribed, it does not', async () => {
    const seen: Array<string | undefined> = [];
    const origin = await startOrigin((req, res) => {
      seen.push(req.headers['x-trace'] as string | undefined);
      res.end('ok');
    });
    const p = await startProxy({ upstreamPeer: () => origin.peer() });
    const stop = subscribeProxyDiagnostics({
      upstreamRequest: ({ request: up, attempt }) => up.insertHeader('x-trace', `attempt-${attempt}`),
    });
    await request(p.url('/'));
    stop();
    stop(); // a second call is harmless
    await request(p.url('/'));
    expect(seen).toEqual(['attempt-1', undefined]);
    expect(diagnosticsChannel.channel(PROXY_CHANNELS.upstreamRequest).hasSubscribers).toBe(false);
  });

  it('an HTTP/2 request: version 2, host from :authority, a header added upstream reaches the HTTP/1.1 origin', async () => {
    const seen: Array<string | undefined> = [];
    const origin = await startOrigin((req, res) => {
      seen.push(req.headers['x-trace'] as string | undefined);
      res.end('h2');
    });
    const p = await startH2cProxy({ upstreamPeer: () => origin.peer() });
    const events = record();
    stops.push(
      subscribeProxyDiagnostics({ upstreamRequest: ({ request: up }) => up.insertHeader('x-trace', 'h2') }),
    );
    const r = await h2fetch(h2connect(`http://127.0.0.1:${p.port}`), {
      ':path': '/h2',
      ':authority': 'h2.test',
    });
    expect(r.body.toString()).toBe('h2');
    await ended(events);
    expect(one<ProxyRequestStartMessage>(events, 'requestStart')).toMatchObject({
      httpVersion: '2',
      host: 'h2.test',
      path: '/h2',
    });
    expect(one<ProxyUpstreamConnectedMessage>(events, 'upstreamConnected').httpVersion).toBe(1);
    expect(one<ProxyRequestEndMessage>(events, 'requestEnd').record.status).toBe(200);
    expect(seen).toEqual(['h2']);
  });

  it('refuses a handler that is not a function', () => {
    expect(() => subscribeProxyDiagnostics({ requestEnd: 'nope' as never })).toThrow(
      /requestEnd must be a function/,
    );
  });
});
