import { readFileSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import tls from 'node:tls';
import { Connector } from '@pingora-ts/core';
import { isPingoraError, type PingoraError } from '@pingora-ts/error';
import { RequestHeader } from '@pingora-ts/http';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, deadPort, onClose, startOrigin } from '../test/helpers.js';
import { Backend } from './backend.js';
import { TcpHealthCheck } from './health-check.js';
import { HttpHealthCheck } from './http-health-check.js';

afterEach(closeAll);

const fixture = (f: string) => readFileSync(new URL(`../test/fixtures/${f}`, import.meta.url), 'utf8');

async function failure(p: Promise<void>): Promise<PingoraError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(isPingoraError(e)).toBe(true);
  return e as PingoraError;
}

async function tlsServer(): Promise<number> {
  const server = tls.createServer({ key: fixture('key.pem'), cert: fixture('cert.pem') }, (s) => s.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  onClose(() => new Promise<void>((r) => server.close(() => r())));
  return (server.address() as net.AddressInfo).port;
}

describe('TcpHealthCheck', () => {
  it('passes on a connect, fails with ConnectRefused on a closed port', async () => {
    const origin = await startOrigin('up');
    const hc = TcpHealthCheck.new();
    await hc.check(new Backend(origin.addr));
    expect(origin.connections).toBe(1);
    const e = await failure(hc.check(new Backend(`127.0.0.1:${await deadPort()}`)));
    expect(e.type.name).toBe('ConnectRefused');
    expect([hc.consecutiveSuccess, hc.consecutiveFailure, hc.peerTemplate.options.connectionTimeout]).toEqual(
      [1, 1, 1_000],
    );
  });

  it('newTls completes a verified handshake; a wrong SNI fails the check', async () => {
    const port = await tlsServer();
    const ok = TcpHealthCheck.newTls('lb.test');
    ok.peerTemplate.options.ca = fixture('cert.pem');
    await ok.check(new Backend(`127.0.0.1:${port}`));
    const wrong = TcpHealthCheck.newTls('other.test');
    wrong.peerTemplate.options.ca = fixture('cert.pem');
    const e = await failure(wrong.check(new Backend(`127.0.0.1:${port}`)));
    expect(['InvalidCert', 'TLSHandshakeFailure']).toContain(e.type.name);
  });

  it('setConnector replaces how the connection is made', async () => {
    const hc = TcpHealthCheck.new();
    const seen: string[] = [];
    hc.setConnector(async (peer) => {
      seen.push(String(peer));
      throw new Error('no route');
    });
    await expect(hc.check(new Backend('10.1.2.3:4'))).rejects.toThrow('no route');
    expect(seen[0]).toContain('10.1.2.3:4');
  });
});

describe('HttpHealthCheck', () => {
  it('GET / with the Host header; 200 passes, anything else fails with CustomCode "non 200 code"', async () => {
    const origin = await startOrigin('web');
    const hc = HttpHealthCheck.new('health.example', false);
    await hc.check(new Backend(origin.addr));
    expect(origin.seen).toEqual(['GET / health.example']);
    origin.status = 503;
    const e = await failure(hc.check(new Backend(origin.addr)));
    expect(e.type.name).toBe('non 200 code');
    expect(e.toString()).toContain('during http healthcheck');
  });

  it('a validator decides instead of the status; its error is the failure', async () => {
    const origin = await startOrigin('web');
    origin.status = 204;
    const hc = HttpHealthCheck.new('h', false);
    await expect(hc.check(new Backend(origin.addr))).rejects.toBeDefined();
    hc.validator = (resp) => {
      if (resp.headers.get('x-origin') !== 'web') throw new Error('wrong origin');
    };
    await hc.check(new Backend(origin.addr));
    hc.validator = () => {
      throw new Error('wrong origin');
    };
    await expect(hc.check(new Backend(origin.addr))).rejects.toThrow('wrong origin');
  });

  it('portOverride checks another port of the same IP; a custom request is sent as is', async () => {
    const health = await startOrigin('health-port');
    const hc = HttpHealthCheck.new('h', false);
    hc.portOverride = health.port;
    hc.req = RequestHeader.build('HEAD', '/healthz');
    hc.req.insertHeader('Host', 'svc.internal');
    await hc.check(new Backend(`127.0.0.1:${await deadPort()}`));
    expect(health.seen).toEqual(['HEAD /healthz svc.internal']);
  });

  it('opens a new connection per check unless reuseConnection is set', async () => {
    const origin = await startOrigin('web');
    const hc = HttpHealthCheck.new('h', false);
    for (let i = 0; i < 3; i++) await hc.check(new Backend(origin.addr));
    expect(origin.connections).toBe(3);
    const reuse = HttpHealthCheck.new('h', false);
    const connector = new Connector();
    onClose(() => connector.close());
    reuse.setConnector(connector);
    reuse.reuseConnection = true;
    for (let i = 0; i < 3; i++) await reuse.check(new Backend(origin.addr));
    expect(origin.connections).toBe(4);
    expect(connector.stats.reuses).toBe(2);
  });

  it('a response that never comes fails after the read timeout', async () => {
    const server = http.createServer(() => {}); // never answers
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    onClose(
      () =>
        new Promise<void>((r) => {
          server.closeAllConnections();
          server.close(() => r());
        }),
    );
    const hc = HttpHealthCheck.new('h', false);
    hc.peerTemplate.options.readTimeout = 50;
    const e = await failure(hc.check(new Backend(`127.0.0.1:${(server.address() as net.AddressInfo).port}`)));
    expect(e.type.name).toBe('ReadTimedout');
  });

  it('backendSummary names backends in log lines', () => {
    const hc = HttpHealthCheck.new('h', false);
    expect(hc.backendSummary(new Backend('1.2.3.4:5'))).toBe('Backend { addr: 1.2.3.4:5, weight: 1 }');
    hc.setBackendSummary((b) => `api@${b.addr}`);
    expect(hc.backendSummary(new Backend('1.2.3.4:5'))).toBe('api@1.2.3.4:5');
  });
});
