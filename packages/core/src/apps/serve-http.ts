/**
 * `ServeHttp`: the simplest HTTP app — return a response for each request (Pingora's `ServeHttp`
 * wrapped by `HttpServer::new_app`). For health endpoints, metrics, echo servers and tests.
 */
import { ResponseHeader } from '@pingora-ts/http';
import { HttpModules } from '../modules/http/modules.js';
import type { HttpServerSession } from '../protocols/server-session.js';
import type { HttpServerApp, HttpServerOptions } from './http-app.js';
import { serveWithModules } from './serve-http-modules.js';

/** A complete response. `headers` is an object or a flat raw array; Content-Length is added. */
export interface HttpResponse {
  status: number;
  headers?: Record<string, string> | string[];
  body?: Buffer | string;
}

/** A plain HTTP application: one response per request. */
export interface ServeHttp {
  response(session: HttpServerSession): HttpResponse | Promise<HttpResponse>;
}

function isPromise<T>(v: unknown): v is Promise<T> {
  return v instanceof Promise;
}

function toHeader(r: HttpResponse): { resp: ResponseHeader; body: Buffer | undefined } {
  const raw: string[] = Array.isArray(r.headers) ? r.headers.slice() : Object.entries(r.headers ?? {}).flat();
  const resp = ResponseHeader.fromRaw(r.status, raw);
  const body = r.body === undefined ? undefined : typeof r.body === 'string' ? Buffer.from(r.body) : r.body;
  resp.insertHeader('Content-Length', body?.length ?? 0);
  return { resp, body };
}

function send(session: HttpServerSession, r: HttpResponse): void {
  const { resp, body } = toHeader(r);
  const head = session.reqHeader().method === 'HEAD';
  session.writeResponseHeader(resp, body === undefined || head);
  if (body !== undefined && !head) session.writeResponseBody(body, true);
}

/**
 * Wraps a {@link ServeHttp} as an `HttpServerApp` (give it to `new HttpServer(...)`). Its
 * `modules` registry (Pingora's `HttpServer::add_module`) is empty: add modules, e.g. response
 * compression, and every response goes through them; with none, nothing runs for them.
 *
 * @example
 * ```ts
 * const hello = serveHttpApp({ response: () => ({ status: 200, body: 'hello\n' }) });
 * hello.modules.addModule(ResponseCompressionBuilder.enable(7));
 * const service = new Service('hello', new HttpServer(hello));
 * service.addTcp('127.0.0.1:8000');
 * ```
 */
export function serveHttpApp(
  app: ServeHttp,
  serverOptions?: HttpServerOptions,
): HttpServerApp & { readonly modules: HttpModules } {
  const modules = new HttpModules();
  return {
    serverOptions,
    modules,
    processNewHttp(session) {
      if (!modules.isEmpty) return serveWithModules(app, session, modules.buildCtx(), toHeader);
      const r = app.response(session);
      if (isPromise<HttpResponse>(r)) return r.then((v) => send(session, v));
      send(session, r);
      return undefined;
    },
  };
}
