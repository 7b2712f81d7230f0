/**
 * The answer actions that need no disk: `redirect` and `respond`. Their responses are built once
 * from the file; a request copies the prepared header, applies the route's response header rules
 * and writes it through the downstream modules (so `compression` applies to a `respond` body).
 */
import { ResponseHeader } from '@pingora-ts/http';
import type { Session } from '@pingora-ts/proxy';
import type { GatewayCtx, Responder } from '../runtime/contracts.js';
import { hostOf } from '../runtime/request-key.js';
import type { RouteConfig } from '../schema/index.js';
import { requestUri } from './match.js';

type RedirectConfig = NonNullable<RouteConfig['redirect']>;
type RespondConfig = NonNullable<RouteConfig['respond']>;

/**
 * Writes `resp` (after the route's response header rules) and `body` downstream; a HEAD request
 * or an empty body gets the header alone. Resolves once the body is handed to the connection.
 */
export function sendAnswer(session: Session, ctx: GatewayCtx, resp: ResponseHeader, body?: Buffer): void {
  ctx.route?.response?.(session, resp);
  if (body === undefined || body.length === 0 || session.reqHeader().method === 'HEAD') {
    session.writeResponseHeader(resp, true);
    return;
  }
  session.writeResponseHeader(resp, false);
  session.writeResponseBody(body, true);
}

/**
 * A `redirect` action: `status` with `Location: to`, where `$uri` is replaced by the request's
 * path and query and `$path` by its path (both in routing form: normalized, still percent-encoded),
 * and `$host` by its host name, lower-cased and without the port (as nginx's `$host`: the port
 * the client used is the one being redirected away from).
 *
 * @example
 * ```ts
 * redirectResponder({ to: 'https://$host$uri', status: 301 }); // plain HTTP → HTTPS
 * ```
 */
export function redirectResponder(config: RedirectConfig): Responder {
  const parts = config.to.split(/(\$uri|\$path|\$host)/);
  const fixed = parts.length === 1 ? config.to : undefined;
  const template = ResponseHeader.build(config.status);
  template.insertHeader('Content-Length', '0');
  return async (session, ctx) => {
    const resp = template.clone();
    resp.insertHeader('Location', fixed ?? expand(parts, session));
    sendAnswer(session, ctx, resp);
  };
}

function expand(parts: string[], session: Session): string {
  const uri = requestUri(session);
  let out = '';
  for (const p of parts) {
    if (p === '$host') out += hostOf(session);
    else if (p === '$uri') out += uri;
    else if (p === '$path') {
      const q = uri.indexOf('?');
      out += q === -1 ? uri : uri.slice(0, q);
    } else out += p;
  }
  return out;
}

/**
 * A `respond` action: a fixed status, body and headers. `Content-Length` is the body's; a body
 * without a `Content-Type` in `headers` is sent as `text/plain; charset=utf-8`.
 *
 * @example
 * ```ts
 * respondResponder({ status: 200, body: 'ok\n', headers: { 'cache-control': 'no-store' } });
 * ```
 */
export function respondResponder(config: RespondConfig): Responder {
  const body = Buffer.from(config.body);
  const template = ResponseHeader.build(config.status);
  let typed = false;
  for (const [name, value] of Object.entries(config.headers ?? {})) {
    template.appendHeader(name, value);
    if (name.toLowerCase() === 'content-type') typed = true;
  }
  if (body.length > 0 && !typed) template.insertHeader('Content-Type', 'text/plain; charset=utf-8');
  // 1xx, 204 and 304 have no body and no length (RFC 9110 §8.6).
  const bodyless = config.status < 200 || config.status === 204 || config.status === 304;
  if (!bodyless) template.insertHeader('Content-Length', String(body.length));
  const sent = bodyless ? undefined : body;
  return async (session, ctx) => sendAnswer(session, ctx, template.clone(), sent);
}
