/**
 * A `ServeHttp` response through the app's HTTP modules (Pingora's `HttpServer` with
 * `add_module`): request header filters before `response()`, then the response header, body and
 * the modules' body stream (compression) on the way out, with backpressure, and the done filter
 * once. A module that throws answers with the error's `HTTPStatus` (else 500) instead of the
 * silent close Pingora does.
 */
import { isPingoraError } from '@pingora-ts/error';
import type { ResponseHeader } from '@pingora-ts/http';
import type { HttpModuleCtx } from '../modules/http/modules.js';
import type { HttpServerSession } from '../protocols/server-session.js';
import type { HttpResponse, ServeHttp } from './serve-http.js';

/** @internal Serves one request of `app` through `mods`; never rejects. */
export async function serveWithModules(
  app: ServeHttp,
  session: HttpServerSession,
  mods: HttpModuleCtx,
  toHeader: (r: HttpResponse) => { resp: ResponseHeader; body: Buffer | undefined },
): Promise<void> {
  try {
    const before = mods.requestHeaderFilter(session.reqHeader());
    if (before instanceof Promise) await before;
    const { resp, body } = toHeader(await app.response(session));
    const noBody = body === undefined || session.reqHeader().method === 'HEAD';
    const head = mods.responseHeaderFilter(resp, noBody);
    if (head instanceof Promise) await head;
    if (noBody) {
      session.writeResponseHeader(resp, true);
      return;
    }
    const out = mods.responseBodyFilter(body, true);
    const last = out === undefined ? body : (out ?? undefined);
    const stream = mods.responseBodyStream();
    if (stream === undefined) {
      if (out !== undefined) resp.insertHeader('Content-Length', last?.length ?? 0);
      session.writeResponseHeader(resp, last === undefined);
      if (last !== undefined) session.writeResponseBody(last, true);
      return;
    }
    resp.removeHeader('Content-Length');
    session.writeResponseHeader(resp, false);
    await pipeToClient(stream, session, last);
  } catch (e) {
    if (session.responseWritten() === undefined) {
      const status = isPingoraError(e) ? (e.type.status ?? 500) : 500;
      session.respondError(status >= 100 && status <= 599 ? status : 500);
    } else {
      session.abort();
    }
  } finally {
    mods.responseDoneFilter();
  }
}

// Writes `body` through `stream` to the client: pauses the stream while the client is slow, ends
// the response with the stream, and gives up (destroying the stream) if the client goes away.
function pipeToClient(
  stream: import('node:stream').Duplex,
  session: HttpServerSession,
  body: Buffer | undefined,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    stream.on('data', (chunk: Buffer) => {
      if (!session.writeResponseBody(chunk, false)) {
        stream.pause();
        session.onResponseDrain(() => stream.resume());
      }
    });
    stream.once('end', () => {
      session.writeResponseBody(undefined, true);
      resolve();
    });
    stream.once('error', reject);
    session.onClientGone(() => {
      stream.destroy();
      resolve();
    });
    stream.end(body);
  });
}
