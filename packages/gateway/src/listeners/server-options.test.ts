import { HttpPeer, noopLogger, ShutdownController } from '@pingora-ts/core';
import { httpProxyService } from '@pingora-ts/proxy';
import { closeAll, request, startOrigin, startService } from '@pingora-ts/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { type GatewayConfigInput, gatewayConfig } from '../schema/index.js';
import { addListeners, httpServerOptions } from './index.js';

afterEach(closeAll);

const optionsOf = (listeners: GatewayConfigInput['listeners']) =>
  httpServerOptions(gatewayConfig.parse({ listeners, upstreams: { app: { backends: ['127.0.0.1:1'] } } }));

describe('httpServerOptions', () => {
  it('leaves every key out when no listener sets one, so the server defaults apply', () => {
    expect(optionsOf(['127.0.0.1:8080'])).toEqual({});
  });

  it('maps one listener: durations in ms, sizes in bytes', () => {
    expect(
      optionsOf([
        {
          address: '127.0.0.1:8080',
          keepalive_timeout: '30s',
          headers_timeout: '10s',
          request_timeout: '2m',
          max_header_size: '32KiB',
          keepalive_request_limit: 100,
          h2c: true,
        },
      ]),
    ).toEqual({
      keepaliveTimeout: 30_000,
      headersTimeout: 10_000,
      requestTimeout: 120_000,
      maxHeaderSize: 32_768,
      keepaliveRequestLimit: 100,
      h2c: true,
    });
  });

  it('merges several listeners: the strictest limit wins, 0 (disabled) is the loosest, h2c if any', () => {
    expect(
      optionsOf([
        { address: '127.0.0.1:8080', keepalive_timeout: '30s', headers_timeout: 0, max_header_size: 8192 },
        { address: '127.0.0.1:8081', keepalive_timeout: '5s', headers_timeout: '20s', h2c: true },
        { address: '127.0.0.1:8082', max_header_size: '16KiB', keepalive_request_limit: 10 },
      ]),
    ).toEqual({
      keepaliveTimeout: 5_000,
      headersTimeout: 20_000,
      maxHeaderSize: 8192,
      keepaliveRequestLimit: 10,
      h2c: true,
    });
  });

  it('a request_timeout shorter than the headers timeout lowers the headers timeout to it', () => {
    expect(optionsOf([{ address: '127.0.0.1:8080', request_timeout: '5s' }])).toEqual({
      requestTimeout: 5_000,
      headersTimeout: 5_000,
    });
  });

  it('the options reach the server: a head over max_header_size gets 431', async () => {
    const origin = await startOrigin((_req, res) => res.end('ok'));
    const config = gatewayConfig.parse({
      listeners: [{ address: '127.0.0.1:0', max_header_size: '1KiB' }],
      upstreams: { app: { backends: [origin.addr] } },
    });
    const service = httpProxyService(
      {},
      { upstreamPeer: () => new HttpPeer(origin.addr, false, '') },
      { logger: noopLogger, serverOptions: httpServerOptions(config) },
    );
    addListeners(service, config, { baseDir: process.cwd(), logger: noopLogger });
    const port = await startService(service, new ShutdownController());
    expect((await request(`http://127.0.0.1:${port}/`)).status).toBe(200);
    const big = await request(`http://127.0.0.1:${port}/`, { headers: { 'x-big': 'x'.repeat(2048) } });
    expect(big.status).toBe(431);
  });
});
