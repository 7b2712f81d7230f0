/**
 * Retrying with exponential backoff (Pingora's backoff_retry.rs): `failToConnect` marks connect
 * errors retryable, `upstreamPeer` counts attempts in the Ctx and sleeps 10^n ms (capped) before
 * returning the next peer; a short connection timeout keeps each attempt cheap.
 *
 *   pnpm --filter @pingora-ts/examples backoff-retry   # curl 127.0.0.1:6195
 */
import { HttpPeer, Server } from '@pingora-ts/core';
import { httpProxyService, type ProxyHttp } from '@pingora-ts/proxy';
import { sleep } from '@pingora-ts/timeout';
import { isMain, startDemoOrigin } from './lib/demo-origins.js';
import { type Running, startServices } from './lib/run.js';

interface Ctx {
  tries: number;
}

/**
 * Tries `peers` in order, backing off 10^tries ms (at most `maxBackoffMs`) between attempts and
 * giving up after `maxTries`.
 */
export function backoffRetry(peers: string[], maxTries = 5, maxBackoffMs = 10_000): ProxyHttp<Ctx> {
  return {
    newCtx: () => ({ tries: 0 }),
    async upstreamPeer(_session, ctx) {
      if (ctx.tries > 0) await sleep(Math.min(10 ** ctx.tries, maxBackoffMs));
      const peer = new HttpPeer(peers[Math.min(ctx.tries, peers.length - 1)]!, false, '');
      peer.options.connectionTimeout = 100;
      ctx.tries++;
      return peer;
    },
    failToConnect(_session, _peer, ctx, error) {
      return error.setRetry(ctx.tries < maxTries);
    },
  };
}

export async function main(
  port: number,
  peers: string[],
  maxTries = 5,
  maxBackoffMs = 10_000,
): Promise<Running> {
  const service = httpProxyService(
    new Server(null).configuration,
    backoffRetry(peers, maxTries, maxBackoffMs),
  );
  service.addTcp(`127.0.0.1:${port}`);
  return startServices([service]);
}

if (isMain(import.meta.url)) {
  const o = await startDemoOrigin('eventually');
  // The first two peers refuse connections; the third answers.
  await main(6195, ['127.0.0.1:1', '127.0.0.1:2', o.addr]);
  console.log('backoff-retry on :6195 — curl -i 127.0.0.1:6195 (answers after 10 ms + 100 ms of backoff)');
}
