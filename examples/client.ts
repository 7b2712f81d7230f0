/**
 * The upstream client on its own (Pingora's client.rs): a `Connector` with keep-alive pooling,
 * a request written header first, the response read header first then chunk by chunk, and the
 * connection released for reuse.
 *
 *   pnpm --filter @pingora-ts/examples client
 */
import { ClientSession, Connector, HttpPeer } from '@pingora-ts/core';
import { RequestHeader } from '@pingora-ts/http';
import { isMain, startDemoOrigin } from './lib/demo-origins.js';

/** GETs `path` from `addr` twice over one pooled connection; returns both bodies and whether the second reused it. */
export async function main(
  addr: string,
  path = '/',
): Promise<{ bodies: string[]; reused: boolean[]; status: number[] }> {
  const connector = new Connector();
  const peer = new HttpPeer(addr, false, '');
  const out = { bodies: [] as string[], reused: [] as boolean[], status: [] as number[] };
  for (let i = 0; i < 2; i++) {
    const [conn, reused] = await connector.getHttpSession(peer);
    const session = new ClientSession(conn);
    const req = RequestHeader.build('GET', path);
    req.insertHeader('Host', 'example.local');
    session.writeRequestHeader(req);
    const resp = await session.readResponseHeader();
    let body = '';
    for (let c = await session.readResponseBody(); c !== undefined; c = await session.readResponseBody())
      body += c;
    connector.releaseHttpSession(conn, peer);
    out.bodies.push(body);
    out.reused.push(reused);
    out.status.push(resp.status);
  }
  connector.close();
  return out;
}

if (isMain(import.meta.url)) {
  const o = await startDemoOrigin('client-demo');
  const r = await main(o.addr);
  console.log(r);
  await o.close();
}
