import { HttpPeer, noopLogger, ShutdownController } from '@pingora-ts/core';
import { httpProxyService } from '@pingora-ts/proxy';
import { closeAll, request, startOrigin, startService } from '@pingora-ts/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { type GatewayConfigInput, gatewayConfig } from '../schema/index.js';
import { addListeners, listenerGroups, listenerOf, listenerServerOptions } from './index.js';

afterEach(closeAll);

const configOf = (listeners: GatewayConfigInput['listeners']) =>
  gatewayConfig.parse({ listeners, upstreams: { app: { backends: ['127.0.0.1:1'] } } });
const optionsOf = (listener: NonNullable<GatewayConfigInput['listeners']>[number]) =>
  listenerServerOptions(listenerOf(configOf([listener]).listeners[0]!));

describe('listenerServerOptions', () => {
  it('leaves every key out when the listener sets none, so the server defaults apply', () => {
    expect(optionsOf('127.0.0.1:8080')).toEqual({});
  });

  it('maps one listener: durations in ms, sizes in bytes', () => {
    expect(
      optionsOf({
        address: '127.0.0.1:8080',
        keepalive_timeout: '30s',
        headers_timeout: '10s',
        request_timeout: '2m',
        lingering_timeout: '2s',
        lingering_time: '10s',
        max_header_size: '32KiB',
        keepalive_request_limit: 100,
        h2c: true,
      }),
    ).toEqual({
      keepaliveTimeout: 30_000,
      headersTimeout: 10_000,
      requestTimeout: 120_000,
      lingeringTimeout: 2_000,
      lingeringTime: 10_000,
      maxHeaderSize: 32_768,
      keepaliveRequestLimit: 100,
      h2c: true,
    });
  });

  it('a request_timeout shorter than the headers timeout lowers the headers timeout to it', () => {
    expect(optionsOf({ address: '127.0.0.1:8080', request_timeout: '5s' })).toEqual({
      requestTimeout: 5_000,
      headersTimeout: 5_000,
    });
    expect(optionsOf({ address: '127.0.0.1:8080', headers_timeout: 0, request_timeout: '5s' })).toEqual({
      requestTimeout: 5_000,
      headersTimeout: 5_000,
    });
    // 0 disables the request timeout: the headers timeout stays.
    expect(optionsOf({ address: '127.0.0.1:8080', headers_timeout: '10s', request_timeout: 0 })).toEqual({
      requestTimeout: 0,
      headersTimeout: 10_000,
    });
  });
});

describe('listenerGroups', () => {
  it('puts listeners that agree in one group, in file order', () => {
    const groups = listenerGroups(
      configOf([
        '127.0.0.1:8080',
        { address: '127.0.0.1:8081', keepalive_timeout: '5s', max_header_size: 8192 },
        { address: '127.0.0.1:8082' },
        { address: '127.0.0.1:8083', max_header_size: '8KiB', keepalive_timeout: '5s' },
        { address: '127.0.0.1:8084', h2c: true },
      ]),
    );
    expect(groups).toEqual([
      { serverOptions: {}, listeners: [0, 2] },
      { serverOptions: { keepaliveTimeout: 5_000, maxHeaderSize: 8192 }, listeners: [1, 3] },
      { serverOptions: { h2c: true }, listeners: [4] },
    ]);
  });

  it('one group when every listener has the same settings', () => {
    expect(listenerGroups(configOf(['127.0.0.1:8080', '127.0.0.1:8081']))).toEqual([
      { serverOptions: {}, listeners: [0, 1] },
    ]);
  });
});

describe('per-listener settings on real sockets', () => {
  it('the options reach the server: a head over max_header_size gets 431', async () => {
    const origin = await startOrigin((_req, res) => res.end('ok'));
    const config = gatewayConfig.parse({
      listeners: [{ address: '127.0.0.1:0', max_header_size: '1KiB' }],
      upstreams: { app: { backends: [origin.addr] } },
    });
    const service = httpProxyService(
      {},
      { upstreamPeer: () => new HttpPeer(origin.addr, false, '') },
      { logger: noopLogger, serverOptions: listenerGroups(config)[0]!.serverOptions },
    );
    addListeners(service, config, { baseDir: process.cwd(), logger: noopLogger });
    const port = await startService(service, new ShutdownController());
    expect((await request(`http://127.0.0.1:${port}/`)).status).toBe(200);
    const big = await request(`http://127.0.0.1:${port}/`, { headers: { 'x-big': 'x'.repeat(2048) } });
    expect(big.status).toBe(431);
  });
});
