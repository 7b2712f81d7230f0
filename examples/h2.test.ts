import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import * as grpcProxy from './grpc-proxy.js';
import { EchoClient, GreeterClient, type GrpcDemo, startGrpcDemo } from './lib/grpc-demo.js';
import type { Running } from './lib/run.js';
import { closeAll, onClose } from './lib/testing.js';

afterEach(closeAll);

async function backend(name: string): Promise<GrpcDemo> {
  const b = await startGrpcDemo(name);
  onClose(() => b.close());
  return b;
}

function client<C extends grpc.Client>(
  Ctor: new (a: string, c: grpc.ChannelCredentials) => C,
  port: number,
): C {
  const c = new Ctor(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  onClose(() => c.close());
  return c;
}

function call(c: grpc.Client, method: string, name: string): Promise<string> {
  return new Promise((resolve, reject) =>
    // biome-ignore lint/suspicious/noExplicitAny: generated client methods
    (c as any)[method]({ name }, (err: grpc.ServiceError | null, res: { message: string }) =>
      err ? reject(err) : resolve(res.message),
    ),
  );
}

describe('grpc-proxy example', () => {
  it('routes calls by service, adds metadata, streams, and maps a dead backend to UNAVAILABLE', async () => {
    const a = await backend('backend-a');
    const b = await backend('backend-b');
    const r: Running = await grpcProxy.main(
      0,
      { 'demo.Greeter': a.addr, 'demo.Dead': '127.0.0.1:1' },
      b.addr,
    );
    onClose(() => r.close());
    const port = r.ports[0]!;

    const greeter = client(GreeterClient, port);
    expect(await call(greeter, 'sayHello', 'ada')).toBe('hello ada from backend-a via pingora-ts');
    const echo = client(EchoClient, port);
    expect(await call(echo, 'echo', 'bob')).toBe('echo bob from backend-b via pingora-ts');

    // Server streaming through the proxy.
    // biome-ignore lint/suspicious/noExplicitAny: generated client methods
    const stream = (greeter as any).sayHelloStream({ name: 'cy' });
    const messages: string[] = [];
    stream.on('data', (m: { message: string }) => messages.push(m.message));
    await new Promise((resolve) => stream.on('status', resolve));
    expect(messages).toEqual([
      '1: hello cy from backend-a',
      '2: hello cy from backend-a',
      '3: hello cy from backend-a',
    ]);

    // A service routed to a backend that is down: a gRPC status, not an opaque HTTP 502.
    const dead = new (grpc.makeGenericClientConstructor(
      {
        Echo: {
          path: '/demo.Dead/Echo',
          requestStream: false,
          responseStream: false,
          requestSerialize: (v: Buffer) => v,
          requestDeserialize: (v: Buffer) => v,
          responseSerialize: (v: Buffer) => v,
          responseDeserialize: (v: Buffer) => v,
        },
      },
      'Dead',
    ))(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    onClose(() => dead.close());
    const err = await new Promise<grpc.ServiceError>((resolve) =>
      // biome-ignore lint/suspicious/noExplicitAny: generic client
      (dead as any).Echo(Buffer.alloc(0), (e: grpc.ServiceError) => resolve(e)),
    );
    expect(err.code).toBe(grpc.status.UNAVAILABLE);
    expect(err.details).toMatch(/upstream unavailable: ConnectRefused/);
  });
});
