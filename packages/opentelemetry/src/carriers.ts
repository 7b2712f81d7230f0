/**
 * How OpenTelemetry propagators read the client's request and write the upstream request: a
 * getter over the proxy `Session` (fields are parsed only when a propagator asks for one) and a
 * setter that replaces a field of the upstream request head, so a client's `traceparent` never
 * goes upstream beside the proxy's own.
 */
import type { TextMapGetter, TextMapSetter } from '@opentelemetry/api';
import type { ProxyUpstreamRequestMessage, Session } from '@pingora-ts/proxy';

type UpstreamRequestHeader = ProxyUpstreamRequestMessage['request'];

/** Reads request fields of a proxy `Session` (case-insensitive). */
export const sessionHeaderGetter: TextMapGetter<Session> = {
  get(session, key) {
    const all = session.reqHeader().headers.getAll(key);
    if (all.length === 0) return undefined;
    return all.length === 1 ? all[0] : all;
  },
  keys(session) {
    const names: string[] = [];
    for (const [name] of session.reqHeader().headers) names.push(name);
    return names;
  },
};

/** Sets a field of an upstream request head, replacing any field of that name. */
export const requestHeaderSetter: TextMapSetter<UpstreamRequestHeader> = {
  set(request, key, value) {
    request.insertHeader(key, value);
  },
};
