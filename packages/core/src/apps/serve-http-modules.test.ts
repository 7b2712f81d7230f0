/**
 * `serveHttpApp(...).modules` over real sockets: response compression of a ServeHttp response,
 * a module that refuses the request, and the done filter once per request.
 */
import http from 'node:http';
import { gunzipSync } from 'node:zlib';
import { ErrorType, PingoraError } from '@pingora-ts/error';
import { closeAll, onClose, waitFor } from '@pingora-ts/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { memoryLogger } from '../../test/helpers.js';
import { ResponseCompressionBuilder } from '../modules/http/compression/builder.js';
import { ShutdownController } from '../server/shutdown.js';
import { Service } from '../services/listening.js';
import { HttpServer } from './http-app.js';
import { type ServeHttp, serveHttpApp } from './serve-http.js';

afterEach(closeAll);

const BODY = 'metric_total 1\n'.repeat(200);

async function start(app: ReturnType<typeof serveHttpApp>): Promise<number> {
  const svc = new Service('modules', new HttpServer(app, { logger: memoryLogger() }), {
    logger: memoryLogger(),
    bindRetry: { retries: 0, delayMs: 0 },
  });
  svc.addTcp('127.0.0.1:0');
  await svc.start(new ShutdownController().watch);
  onClose(() => svc.stop(false, 0));
  const a = svc.addresses()[0];
  if (a?.kind !== 'tcp') throw new Error('not listening on TCP');
  return a.port;
}

function get(
  port: number,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http
      .request({ host: '127.0.0.1', port, method, headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      })
      .on('error', reject)
      .end();
  });
}

const metrics: ServeHttp = {
  response: () => ({ status: 200, headers: { 'Content-Type': 'text/plain; version=0.0.4' }, body: BODY }),
};

describe('serveHttpApp modules', () => {
  it('compresses for clients that accept gzip and leaves the body as is for the others', async () => {
    const app = serveHttpApp(metrics);
    app.modules.addModule(ResponseCompressionBuilder.enable(7));
    const port = await start(app);
    const gz = await get(port, { 'accept-encoding': 'gzip' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.headers['content-length']).toBeUndefined();
    expect(gunzipSync(gz.body).toString()).toBe(BODY);
    const plain = await get(port);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.headers['content-length']).toBe(String(BODY.length));
    expect(plain.body.toString()).toBe(BODY);
    const head = await get(port, { 'accept-encoding': 'gzip' }, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
  });

  it('a module that throws HTTPStatus answers with it; done runs once per request', async () => {
    let done = 0;
    let served = 0;
    const app = serveHttpApp({
      response: () => {
        served++;
        return { status: 200, body: 'secret' };
      },
    });
    app.modules.addModule({
      init: () => ({
        requestHeaderFilter(req) {
          if (req.headers.get('authorization') === undefined) {
            throw PingoraError.explain(ErrorType.HTTPStatus(401), 'no credentials');
          }
        },
        responseBodyFilter: (b: Buffer | undefined) => (b === undefined ? undefined : Buffer.from(`${b}!`)),
        responseDoneFilter: () => void done++,
      }),
    });
    const port = await start(app);
    expect((await get(port)).status).toBe(401);
    expect(served).toBe(0);
    const ok = await get(port, { authorization: 'x' });
    expect(ok.body.toString()).toBe('secret!');
    // The body filter changed the length: Content-Length follows it.
    expect(ok.headers['content-length']).toBe('7');
    await waitFor(() => done === 2);
  });
});
