/**
 * OpenTelemetry HTTP semantic-convention attributes for the proxy's spans, built from the plain
 * fields of its diagnostics messages. The names are written out here (they are stable in the
 * HTTP conventions) rather than taken from `@opentelemetry/semantic-conventions`, to keep the
 * adapter's only dependency the API.
 */
import type { Attributes } from '@opentelemetry/api';
import type { ProxyRequestStartMessage, ProxyUpstreamStartMessage } from '@pingora-ts/proxy';

/** Attribute names used on the spans (OpenTelemetry HTTP semantic conventions, plus `pingora.*`). */
export const ATTR = Object.freeze({
  method: 'http.request.method',
  methodOriginal: 'http.request.method_original',
  status: 'http.response.status_code',
  resendCount: 'http.request.resend_count',
  urlPath: 'url.path',
  urlQuery: 'url.query',
  urlScheme: 'url.scheme',
  serverAddress: 'server.address',
  serverPort: 'server.port',
  clientAddress: 'client.address',
  clientPort: 'client.port',
  protocolVersion: 'network.protocol.version',
  userAgent: 'user_agent.original',
  errorType: 'error.type',
  upstreamReused: 'pingora.upstream.reused',
  background: 'pingora.background_refresh',
} as const);

// The methods the conventions know; any other is reported as `_OTHER` with the original beside it.
const KNOWN_METHODS = new Set([
  'CONNECT',
  'DELETE',
  'GET',
  'HEAD',
  'OPTIONS',
  'PATCH',
  'POST',
  'PUT',
  'TRACE',
]);

/** Sets the method attributes of `attrs`; returns the span name (the method, or `HTTP`). */
export function methodAttributes(method: string, attrs: Attributes): string {
  if (KNOWN_METHODS.has(method)) {
    attrs[ATTR.method] = method;
    return method;
  }
  attrs[ATTR.method] = '_OTHER';
  attrs[ATTR.methodOriginal] = method;
  return 'HTTP';
}

/** Splits `host[:port]` / `[v6]:port` into address and port (port `undefined` when absent or invalid). */
export function splitHostPort(host: string): { address: string; port: number | undefined } {
  const close = host.lastIndexOf(']');
  const colon = host.lastIndexOf(':');
  if (colon <= close) return { address: close > 0 ? host.slice(1, close) : host, port: undefined };
  const port = Number(host.slice(colon + 1));
  const address = close > 0 ? host.slice(1, close) : host.slice(0, colon);
  return { address, port: Number.isInteger(port) && port > 0 && port < 65536 ? port : undefined };
}

/** Attributes of the SERVER span, from `request:start`; returns them with the span name. */
export function serverAttributes(m: ProxyRequestStartMessage): { name: string; attributes: Attributes } {
  const attributes: Attributes = {};
  const name = methodAttributes(m.method, attributes);
  const q = m.path.indexOf('?');
  attributes[ATTR.urlPath] = q < 0 ? m.path : m.path.slice(0, q);
  if (q >= 0) attributes[ATTR.urlQuery] = m.path.slice(q + 1);
  attributes[ATTR.urlScheme] = m.tls ? 'https' : 'http';
  attributes[ATTR.protocolVersion] = m.httpVersion;
  if (m.host !== undefined) {
    const { address, port } = splitHostPort(m.host);
    attributes[ATTR.serverAddress] = address;
    if (port !== undefined) attributes[ATTR.serverPort] = port;
  }
  const client = m.session.clientAddr();
  if (client !== undefined && client.path === undefined) {
    attributes[ATTR.clientAddress] = client.address;
    attributes[ATTR.clientPort] = client.port;
  }
  const ua = m.session.getHeader('user-agent');
  if (ua !== undefined) attributes[ATTR.userAgent] = ua;
  if (m.background) attributes[ATTR.background] = true;
  return { name, attributes };
}

/** Attributes of an attempt's CLIENT span, from `upstream:start`; returns them with the span name. */
export function clientAttributes(m: ProxyUpstreamStartMessage): { name: string; attributes: Attributes } {
  const attributes: Attributes = {};
  const name = methodAttributes(m.session.reqHeader().method, attributes);
  const a = m.peer.address;
  if (a.kind === 'inet') {
    attributes[ATTR.serverAddress] = a.host;
    attributes[ATTR.serverPort] = a.port;
  } else {
    attributes[ATTR.serverAddress] = a.path;
  }
  attributes[ATTR.urlScheme] = m.scheme;
  // The conventions count resends, and only on resent requests.
  if (m.attempt > 1) attributes[ATTR.resendCount] = m.attempt - 1;
  return { name, attributes };
}
