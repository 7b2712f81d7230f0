/**
 * A small gRPC backend for the grpc-proxy example: two services, `demo.Greeter` and `demo.Echo`,
 * defined inline (no .proto file), served by `@grpc/grpc-js` over h2c. Replies name the backend
 * and the `x-forwarded-by` metadata they received, so a client can see where a call went.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const descriptor = {
  nested: {
    demo: {
      nested: {
        Greeter: {
          methods: {
            SayHello: { requestType: 'HelloRequest', responseType: 'HelloReply' },
            SayHelloStream: { requestType: 'HelloRequest', responseType: 'HelloReply', responseStream: true },
          },
        },
        Echo: { methods: { Echo: { requestType: 'HelloRequest', responseType: 'HelloReply' } } },
        HelloRequest: { fields: { name: { type: 'string', id: 1 } } },
        HelloReply: { fields: { message: { type: 'string', id: 1 } } },
      },
    },
  },
};

const definition = protoLoader.fromJSON(descriptor as Parameters<typeof protoLoader.fromJSON>[0]);
// biome-ignore lint/suspicious/noExplicitAny: service constructors are generated at run time
const demo = (grpc.loadPackageDefinition(definition) as any).demo;

type Ctor = new (address: string, creds: grpc.ChannelCredentials) => grpc.Client;
/** Client constructors for the demo services. */
export const GreeterClient = demo.Greeter as Ctor;
export const EchoClient = demo.Echo as Ctor;

/** A running demo backend. */
export interface GrpcDemo {
  addr: string;
  close(): Promise<void>;
}

/** Starts a backend named `name` serving both services on 127.0.0.1 (`port` 0 = any). */
export async function startGrpcDemo(name: string, port = 0): Promise<GrpcDemo> {
  const server = new grpc.Server();
  const via = (call: { metadata: grpc.Metadata }) =>
    String(call.metadata.get('x-forwarded-by')[0] ?? 'nobody');
  server.addService(demo.Greeter.service, {
    sayHello(call: grpc.ServerUnaryCall<{ name: string }, unknown>, cb: grpc.sendUnaryData<unknown>) {
      cb(null, { message: `hello ${call.request.name} from ${name} via ${via(call)}` });
    },
    sayHelloStream(call: grpc.ServerWritableStream<{ name: string }, unknown>) {
      for (let i = 1; i <= 3; i++) call.write({ message: `${i}: hello ${call.request.name} from ${name}` });
      call.end();
    },
  });
  server.addService(demo.Echo.service, {
    echo(call: grpc.ServerUnaryCall<{ name: string }, unknown>, cb: grpc.sendUnaryData<unknown>) {
      cb(null, { message: `echo ${call.request.name} from ${name} via ${via(call)}` });
    },
  });
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return {
    addr: `127.0.0.1:${bound}`,
    close: () => new Promise<void>((r) => server.tryShutdown(() => r())),
  };
}
