import net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { HttpPeer, HttpServer, Service, ShutdownController, TlsSettings } from '@pingora-ts/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture, FIXTURES } from '../test/h2.js';
import {
  INTEROP_CASES,
  interopServer,
  type ServerObservations,
  TestServiceClient,
} from '../test/grpc-interop.js';
import { memoryLogger } from '../test/helpers.js';
import { HttpProxy } from './index.js';

const CASES = Object.keys(INTEROP_CASES);

interface Rig {
  client: grpc.Client;
  observed: ServerObservations;
  /** TCP connections opened so far: client → proxy, and proxy → origin. */
  connections: { downstream: number; upstream: number };
  close(): Promise<void>;
}

/**
 * A TCP relay on 127.0.0.1:0 to `target` that counts the connections it accepts. It passes
 * bytes through untouched, so TLS ends at the far side as before.
 */
async function countingRelay(target: number, count: () => void): Promise<{ port: number; close(): void }> {
  const sockets = new Set<net.Socket>();
  const relay = net.createServer((inbound) => {
    count();
    const outbound = net.connect(target, '127.0.0.1');
    for (const [a, b] of [
      [inbound, outbound],
      [outbound, inbound],
    ] as const) {
      sockets.add(a);
      a.on('error', () => b.destroy());
      a.on('close', () => sockets.delete(a));
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
  return {
    port: (relay.address() as net.AddressInfo).port,
    close() {
      relay.close();
      for (const s of sockets) s.destroy();
    },
  };
}

/** grpc-js client → pingora-ts → grpc-js server, plaintext (h2c) or TLS on both hops. */
async function rig(secure: boolean): Promise<Rig> {
  const observed: ServerObservations = { cancelled: 0 };
  const server = interopServer(observed);
  const creds = secure
    ? grpc.ServerCredentials.createSsl(null, [
        { cert_chain: fixture('origin.test.pem'), private_key: fixture('origin.test.key') },
      ])
    : grpc.ServerCredentials.createInsecure();
  const originPort = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', creds, (err, port) => (err ? reject(err) : resolve(port))),
  );
  const connections = { downstream: 0, upstream: 0 };
  const upstreamRelay = await countingRelay(originPort, () => connections.upstream++);
  // One CA object for every peer: connections are pooled per CA identity, so a fresh Buffer per
  // request would give each call its own upstream connection.
  const ca = fixture('ca.pem');
  const logger = memoryLogger();
  const proxy = new HttpProxy(
    {
      upstreamPeer() {
        const peer = new HttpPeer(`127.0.0.1:${upstreamRelay.port}`, secure, secure ? 'origin.test' : '');
        peer.options.alpn = 'h2';
        peer.options.maxH2Streams = 100;
        if (secure) peer.options.ca = ca;
        return peer;
      },
    },
    { logger, serverOptions: { h2c: !secure } },
  );
  const service = new Service('grpc proxy', new HttpServer(proxy), { logger });
  if (secure) {
    service.addTlsWithSettings(
      '127.0.0.1:0',
      undefined,
      TlsSettings.intermediate(`${FIXTURES}/localhost.pem`, `${FIXTURES}/localhost.key`).enableH2(),
    );
  } else {
    service.addTcp('127.0.0.1:0');
  }
  const ctl = new ShutdownController();
  await service.start(ctl.watch);
  const a = service.addresses()[0];
  const downstreamRelay = await countingRelay(a?.kind === 'tcp' ? a.port : 0, () => connections.downstream++);
  const port = downstreamRelay.port;
  const client = secure
    ? new TestServiceClient(`127.0.0.1:${port}`, grpc.credentials.createSsl(fixture('ca.pem')), {
        'grpc.ssl_target_name_override': 'localhost',
        'grpc.default_authority': 'localhost',
      })
    : new TestServiceClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  return {
    client,
    observed,
    connections,
    async close() {
      client.close();
      ctl.shutdown(false);
      await service.stop(false, 0);
      server.forceShutdown();
      downstreamRelay.close();
      upstreamRelay.close();
    },
  };
}

describe.each([
  ['h2c', false],
  ['TLS', true],
])('gRPC interop through the proxy (%s)', (_name, secure) => {
  let r: Rig;
  beforeAll(async () => {
    r = await rig(secure);
  });
  afterAll(() => r.close());

  it.each(CASES)('%s', async (name) => {
    await INTEROP_CASES[name]!(r.client, r.observed);
  });

  it('runs many concurrent calls over shared connections', async () => {
    const before = { ...r.connections };
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        INTEROP_CASES[i % 2 ? 'large_unary' : 'ping_pong']!(r.client, r.observed),
      ),
    );
    expect(r.connections.downstream - before.downstream).toBeLessThanOrEqual(1);
    expect(r.connections.upstream - before.upstream).toBeLessThanOrEqual(1);
  });
});
