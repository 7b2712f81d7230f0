/**
 * Rewriting a response body (Pingora's modify_response.rs): the origin answers JSON; the proxy
 * buffers it in `responseBodyFilter` and emits YAML at the end of the stream. Framing is handled
 * for you: the body length changes, so the response goes out chunked.
 *
 *   pnpm --filter @pingora-ts/examples modify-response   # curl 127.0.0.1:6193/echo
 */
import { HttpPeer, Server } from '@pingora-ts/core';
import { httpProxyService, type ProxyHttp } from '@pingora-ts/proxy';
import { isMain, startDemoOrigin } from './lib/demo-origins.js';
import { type Running, startServices } from './lib/run.js';

interface Ctx {
  json: Buffer[];
}

/** A tiny JSON → YAML rendering for flat and nested objects. */
export function toYaml(value: unknown, indent = ''): string {
  if (value === null || typeof value !== 'object') return `${JSON.stringify(value)}\n`;
  let out = '\n';
  for (const [k, v] of Object.entries(value)) {
    out += `${indent}${k}:${typeof v === 'object' && v !== null ? toYaml(v, `${indent}  `) : ` ${JSON.stringify(v)}\n`}`;
  }
  return indent === '' ? out.slice(1) : out;
}

export function jsonToYaml(origin: string): ProxyHttp<Ctx> {
  return {
    newCtx: () => ({ json: [] }),
    upstreamPeer: () => new HttpPeer(origin, false, ''),
    responseFilter(_session, resp) {
      resp.insertHeader('Content-Type', 'text/yaml');
    },
    responseBodyFilter(_session, body, endOfStream, ctx) {
      if (body !== undefined) ctx.json.push(body);
      if (!endOfStream) return null; // hold everything back until the end
      return Buffer.from(toYaml(JSON.parse(Buffer.concat(ctx.json).toString('utf8'))));
    },
  };
}

export async function main(port: number, origin: string): Promise<Running> {
  const service = httpProxyService(new Server(null).configuration, jsonToYaml(origin));
  service.addTcp(`127.0.0.1:${port}`);
  return startServices([service]);
}

if (isMain(import.meta.url)) {
  const o = await startDemoOrigin('json');
  await main(6193, o.addr);
  console.log('modify-response on :6193 — curl 127.0.0.1:6193/echo');
}
