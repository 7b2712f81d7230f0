/**
 * A gRPC proxy: one h2c listener in front of several gRPC backends, routing each call by its
 * service name (`/package.Service/Method`). Calls pass through unmodified — streaming, metadata,
 * deadlines, cancellation (a client cancel becomes RST_STREAM CANCEL upstream), trailers and
 * status codes — over pooled HTTP/2 connections shared by up to 100 concurrent calls each. When a
 * backend cannot be reached the client gets a gRPC status (UNAVAILABLE, as a trailers-only
 * response) rather than an HTTP 502 that gRPC clients report as an opaque internal error.
 *
 *   pnpm --filter @pingora-ts/examples grpc-proxy
 *   # then any gRPC client on 127.0.0.1:6190 (plaintext), e.g. the demo services demo.Greeter and demo.Echo
 */
import { HttpPeer, Server } from '@pingora-ts/core';
import { ResponseHeader } from '@pingora-ts/http';
import {
  defaultFailToProxy,
  errorStatus,
  httpProxyService,
  type ProxyHttp,
  type Session,
} from '@pingora-ts/proxy';
import { isMain } from './lib/demo-origins.js';
import { startGrpcDemo } from './lib/grpc-demo.js';
import { type Running, startServices } from './lib/run.js';

/** Per call: the gRPC service it targets. */
export interface GrpcCtx {
  service: string;
}

// gRPC status codes used here (grpc/doc/statuscodes.md).
const UNAVAILABLE = 14;
const DEADLINE_EXCEEDED = 4;

/** gRPC's percent-encoding of `grpc-message`: only `%` and bytes outside printable ASCII. */
function grpcPercentEncode(message: string): string {
  let out = '';
  for (const b of Buffer.from(message)) {
    out +=
      b >= 0x20 && b <= 0x7e && b !== 0x25
        ? String.fromCharCode(b)
        : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function isGrpc(session: Session): boolean {
  return session.getHeader('content-type')?.startsWith('application/grpc') === true;
}

/** Routes `service name → "ip:port"`; unknown services go to `fallback`. */
export function grpcProxy(routes: Record<string, string>, fallback: string): ProxyHttp<GrpcCtx> {
  return {
    newCtx: () => ({ service: '' }),

    upstreamPeer(session, ctx) {
      // ":path" is /package.Service/Method
      ctx.service = session.reqHeader().path().split('/')[1] ?? '';
      const peer = new HttpPeer(routes[ctx.service] ?? fallback, false, '');
      peer.options.alpn = 'h2'; // h2c with prior knowledge, as gRPC backends speak
      peer.options.maxH2Streams = 100; // calls share a connection
      peer.options.h2PingInterval = 30_000; // notice dead backends between calls
      peer.options.connectionTimeout = 1_000;
      return peer;
    },

    upstreamRequestFilter(_session, upstreamRequest) {
      upstreamRequest.insertHeader('x-forwarded-by', 'pingora-ts');
    },

    failToProxy(session, error) {
      if (!isGrpc(session) || session.responseWritten() !== undefined)
        return defaultFailToProxy(session, error);
      // A trailers-only response: HTTP 200 with the gRPC status in the only HEADERS frame.
      const http = errorStatus(error);
      const resp = ResponseHeader.build(200);
      resp.insertHeader('content-type', 'application/grpc');
      resp.insertHeader('grpc-status', String(http === 504 ? DEADLINE_EXCEEDED : UNAVAILABLE));
      resp.insertHeader('grpc-message', grpcPercentEncode(`upstream unavailable: ${error.type.name}`));
      session.writeResponseHeader(resp, true);
      return { errorCode: http, canReuseDownstream: true };
    },

    logging(session, error, ctx) {
      if (error !== undefined)
        session.logger.warn({ service: ctx.service, err: String(error) }, 'gRPC call failed');
    },
  };
}

/** Starts the proxy on `port` (0 = any), h2c with prior knowledge (HTTP/1.1 still accepted). */
export async function main(port: number, routes: Record<string, string>, fallback: string): Promise<Running> {
  const service = httpProxyService(new Server(null).configuration, grpcProxy(routes, fallback), {
    serverOptions: { h2c: true },
  });
  service.addTcp(`127.0.0.1:${port}`);
  return startServices([service]);
}

if (isMain(import.meta.url)) {
  const a = await startGrpcDemo('backend-a');
  const b = await startGrpcDemo('backend-b');
  const server = new Server(null);
  server.bootstrap();
  const proxy = httpProxyService(server.configuration, grpcProxy({ 'demo.Greeter': a.addr }, b.addr), {
    serverOptions: { h2c: true },
  });
  proxy.addTcp('0.0.0.0:6190');
  server.addService(proxy);
  console.log(`gRPC proxy on 127.0.0.1:6190 — demo.Greeter → ${a.addr}, everything else → ${b.addr}`);
  await server.runForever();
}
