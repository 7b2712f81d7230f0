/**
 * The standard gRPC interop cases (grpc/grpc doc/interop-test-descriptions.md), written here
 * against `@grpc/grpc-js` and the `grpc.testing` protos in test/fixtures/grpc-proto: a
 * `TestService` server and one client function per case. Each case throws if the behaviour seen
 * through the proxy differs from what the description requires.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { waitFor } from '@pingora-ts/test-utils';

const PROTO_ROOT = join(dirname(fileURLToPath(import.meta.url)), 'fixtures/grpc-proto');

// biome-ignore lint/suspicious/noExplicitAny: generated from .proto at run time
type Msg = any;
type ClientCtor = new (
  address: string,
  creds: grpc.ChannelCredentials,
  options?: grpc.ClientOptions,
) => grpc.Client & Record<string, Msg>;

const definition = protoLoader.loadSync('grpc/testing/test.proto', {
  includeDirs: [PROTO_ROOT],
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
});
const testing = (grpc.loadPackageDefinition(definition) as Msg).grpc.testing;
/** The `grpc.testing.TestService` client constructor. */
export const TestServiceClient = testing.TestService as ClientCtor;

const ECHO_INITIAL = 'x-grpc-test-echo-initial';
const ECHO_TRAILING = 'x-grpc-test-echo-trailing-bin';

function payload(size: number): Msg {
  return { type: 'COMPRESSABLE', body: Buffer.alloc(size) };
}

/** What the interop server observed (for cancellation cases). */
export interface ServerObservations {
  cancelled: number;
}

function echoMetadata(call: {
  metadata: grpc.Metadata;
  sendMetadata(m: grpc.Metadata): void;
}): grpc.Metadata {
  const initial = call.metadata.get(ECHO_INITIAL);
  if (initial.length > 0) {
    const m = new grpc.Metadata();
    m.set(ECHO_INITIAL, initial[0]!);
    call.sendMetadata(m);
  }
  const trailing = new grpc.Metadata();
  const t = call.metadata.get(ECHO_TRAILING);
  if (t.length > 0) trailing.set(ECHO_TRAILING, t[0]!);
  return trailing;
}

function statusError(status: Msg, trailer: grpc.Metadata): grpc.ServiceError | undefined {
  if (!status?.code) return undefined;
  return Object.assign(new Error(status.message), {
    code: status.code,
    details: status.message,
    metadata: trailer,
  }) as grpc.ServiceError;
}

/** A `TestService` implementation following the interop server requirements. */
export function interopServer(observed: ServerObservations): grpc.Server {
  const server = new grpc.Server();
  const watchCancel = (call: { on(event: 'cancelled', cb: () => void): unknown }) =>
    call.on('cancelled', () => observed.cancelled++);
  server.addService(testing.TestService.service, {
    emptyCall: (call: grpc.ServerUnaryCall<Msg, Msg>, cb: grpc.sendUnaryData<Msg>) => {
      watchCancel(call);
      cb(null, {});
    },
    unaryCall: (call: grpc.ServerUnaryCall<Msg, Msg>, cb: grpc.sendUnaryData<Msg>) => {
      watchCancel(call);
      const trailer = echoMetadata(call);
      const err = statusError(call.request.response_status, trailer);
      if (err) return cb(err, null, trailer);
      cb(null, { payload: payload(call.request.response_size) }, trailer);
    },
    streamingInputCall: (call: grpc.ServerReadableStream<Msg, Msg>, cb: grpc.sendUnaryData<Msg>) => {
      watchCancel(call);
      let total = 0;
      call.on('data', (m: Msg) => (total += m.payload?.body?.length ?? 0));
      call.on('end', () => cb(null, { aggregated_payload_size: total }));
      call.on('error', () => {});
    },
    streamingOutputCall: async (call: grpc.ServerWritableStream<Msg, Msg>) => {
      watchCancel(call);
      for (const p of call.request.response_parameters) {
        if (p.interval_us > 0) await new Promise((r) => setTimeout(r, p.interval_us / 1000));
        if (call.cancelled) return;
        call.write({ payload: payload(p.size) });
      }
      call.end();
    },
    fullDuplexCall: (call: grpc.ServerDuplexStream<Msg, Msg>) => {
      watchCancel(call);
      const trailer = echoMetadata(call);
      call.on('data', (m: Msg) => {
        const err = statusError(m.response_status, trailer);
        if (err) {
          call.emit('error', err);
          return;
        }
        for (const p of m.response_parameters) call.write({ payload: payload(p.size) });
      });
      call.on('end', () => call.end(trailer));
      call.on('error', () => {});
    },
    halfDuplexCall: (call: grpc.ServerDuplexStream<Msg, Msg>) => {
      call.on('data', () => {});
      call.on('end', () => call.end());
    },
  });
  return server;
}

function check(cond: unknown, what: string): void {
  if (!cond) throw new Error(`interop check failed: ${what}`);
}

function unary(client: Msg, method: string, req: Msg, md?: grpc.Metadata, opts: grpc.CallOptions = {}) {
  return new Promise<{ res: Msg; initial: grpc.Metadata | undefined; trailer: grpc.Metadata | undefined }>(
    (resolve, reject) => {
      let initial: grpc.Metadata | undefined;
      let result: { err: grpc.ServiceError | null; res: Msg } | undefined;
      // grpc-js calls back before it emits 'status': settle once both arrived.
      const call = client[method](
        req,
        md ?? new grpc.Metadata(),
        opts,
        (err: grpc.ServiceError | null, res: Msg) => {
          result = { err, res };
        },
      );
      call.on('metadata', (m: grpc.Metadata) => (initial = m));
      call.on('status', (s: grpc.StatusObject) => {
        setImmediate(() => {
          if (result?.err) reject(result.err);
          else resolve({ res: result?.res, initial, trailer: s.metadata });
        });
      });
    },
  );
}

function finished(
  call: grpc.ClientDuplexStream<Msg, Msg> | grpc.ClientReadableStream<Msg>,
): Promise<grpc.StatusObject> {
  return new Promise((resolve) => {
    call.on('error', () => {});
    call.on('status', resolve);
  });
}

const REQUEST_SIZES = [27182, 8, 1828, 45904];
const RESPONSE_SIZES = [31415, 9, 2653, 58979];

/** The interop cases, by their standard names. */
export const INTEROP_CASES: Record<string, (client: Msg, observed: ServerObservations) => Promise<void>> = {
  async empty_unary(client) {
    const { res } = await unary(client, 'emptyCall', {});
    check(res && Object.keys(res).length === 0, 'empty response');
  },

  async large_unary(client) {
    const { res } = await unary(client, 'unaryCall', { response_size: 314159, payload: payload(271828) });
    check(res.payload.body.length === 314159, 'payload of 314159 bytes');
  },

  async client_streaming(client) {
    const res = await new Promise<Msg>((resolve, reject) => {
      const call = client.streamingInputCall((err: Error | null, r: Msg) => (err ? reject(err) : resolve(r)));
      for (const n of REQUEST_SIZES) call.write({ payload: payload(n) });
      call.end();
    });
    check(res.aggregated_payload_size === 74922, 'aggregated size 74922');
  },

  async server_streaming(client) {
    const call = client.streamingOutputCall({
      response_parameters: RESPONSE_SIZES.map((size) => ({ size })),
    });
    const sizes: number[] = [];
    call.on('data', (m: Msg) => sizes.push(m.payload.body.length));
    const status = await finished(call);
    check(status.code === grpc.status.OK, 'status OK');
    check(JSON.stringify(sizes) === JSON.stringify(RESPONSE_SIZES), `response sizes ${sizes}`);
  },

  async ping_pong(client) {
    const call: grpc.ClientDuplexStream<Msg, Msg> = client.fullDuplexCall();
    const done = finished(call);
    const next = () => new Promise<Msg>((resolve) => call.once('data', resolve));
    for (let i = 0; i < REQUEST_SIZES.length; i++) {
      const got = next();
      call.write({ response_parameters: [{ size: RESPONSE_SIZES[i] }], payload: payload(REQUEST_SIZES[i]!) });
      check((await got).payload.body.length === RESPONSE_SIZES[i], `pong ${i}`);
    }
    call.end();
    check((await done).code === grpc.status.OK, 'status OK');
  },

  async empty_stream(client) {
    const call: grpc.ClientDuplexStream<Msg, Msg> = client.fullDuplexCall();
    let messages = 0;
    call.on('data', () => messages++);
    const done = finished(call);
    call.end();
    check((await done).code === grpc.status.OK, 'status OK');
    check(messages === 0, 'no responses');
  },

  async cancel_after_begin(client, observed) {
    const before = observed.cancelled;
    const err = await new Promise<grpc.ServiceError>((resolve) => {
      const call = client.streamingInputCall((e: grpc.ServiceError) => resolve(e));
      // Let the call reach the server before cancelling it.
      setTimeout(() => call.cancel(), 20);
    });
    check(err.code === grpc.status.CANCELLED, `CANCELLED, got ${err.code}`);
    await until(() => observed.cancelled > before, 'the server saw the cancellation');
  },

  async cancel_after_first_response(client, observed) {
    const before = observed.cancelled;
    const call: grpc.ClientDuplexStream<Msg, Msg> = client.fullDuplexCall();
    const done = finished(call);
    const first = new Promise<Msg>((resolve) => call.once('data', resolve));
    call.write({ response_parameters: [{ size: 31415 }], payload: payload(27182) });
    check((await first).payload.body.length === 31415, 'first response');
    call.cancel();
    check((await done).code === grpc.status.CANCELLED, 'CANCELLED');
    await until(() => observed.cancelled > before, 'the server saw the cancellation');
  },

  async timeout_on_sleeping_server(client) {
    const call: grpc.ClientDuplexStream<Msg, Msg> = client.fullDuplexCall({ deadline: Date.now() + 1 });
    const done = finished(call);
    call.write({ payload: payload(27182) });
    const status = await done;
    check(status.code === grpc.status.DEADLINE_EXCEEDED, `DEADLINE_EXCEEDED, got ${status.code}`);
  },

  async status_code_and_message(client) {
    const status = { code: 2, message: 'test status message' };
    const err = await unary(client, 'unaryCall', { response_status: status }).then(
      () => undefined,
      (e: grpc.ServiceError) => e,
    );
    check(
      err?.code === 2 && err.details === 'test status message',
      `unary status ${err?.code} ${err?.details}`,
    );
    const call: grpc.ClientDuplexStream<Msg, Msg> = client.fullDuplexCall();
    const done = finished(call);
    call.write({ response_status: status });
    call.end();
    const s = await done;
    check(s.code === 2 && s.details === 'test status message', `duplex status ${s.code} ${s.details}`);
  },

  async custom_metadata(client) {
    const md = new grpc.Metadata();
    md.set(ECHO_INITIAL, 'test_initial_metadata_value');
    md.set(ECHO_TRAILING, Buffer.from([0xab, 0xab, 0xab]));
    const { initial, trailer } = await unary(
      client,
      'unaryCall',
      { response_size: 314159, payload: payload(271828) },
      md,
    );
    check(initial?.get(ECHO_INITIAL)[0] === 'test_initial_metadata_value', 'unary initial metadata');
    check(
      Buffer.from(trailer?.get(ECHO_TRAILING)[0] as Buffer).equals(Buffer.from([0xab, 0xab, 0xab])),
      'unary trailing metadata',
    );
    const call: grpc.ClientDuplexStream<Msg, Msg> = client.fullDuplexCall(md);
    let init: grpc.Metadata | undefined;
    call.on('metadata', (m: grpc.Metadata) => (init = m));
    call.on('data', () => {});
    const done = finished(call);
    call.write({ response_parameters: [{ size: 314159 }], payload: payload(271828) });
    call.end();
    const s = await done;
    check(s.code === grpc.status.OK, 'duplex OK');
    check(init?.get(ECHO_INITIAL)[0] === 'test_initial_metadata_value', 'duplex initial metadata');
    check(
      Buffer.from(s.metadata.get(ECHO_TRAILING)[0] as Buffer).equals(Buffer.from([0xab, 0xab, 0xab])),
      'duplex trailing metadata',
    );
  },

  async unimplemented_method(client) {
    const err = await unary(client, 'unimplementedCall', {}).then(
      () => undefined,
      (e: grpc.ServiceError) => e,
    );
    check(
      err?.code === grpc.status.UNIMPLEMENTED,
      `UNIMPLEMENTED (a trailers-only response), got ${err?.code}`,
    );
  },
};

function until(cond: () => boolean, what: string): Promise<void> {
  return waitFor(cond, { message: what });
}
