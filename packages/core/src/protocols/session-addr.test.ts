/**
 * Session addresses print as text: `${session.clientAddr()}` over IPv4, IPv6 and a Unix socket,
 * through a real listening service and node:http clients.
 */
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { memoryLogger } from '../../test/helpers.js';
import { HttpServer } from '../apps/http-app.js';
import { serveHttpApp } from '../apps/serve-http.js';
import { ShutdownController } from '../server/shutdown.js';
import { Service } from '../services/listening.js';

const dir = mkdtempSync(join(tmpdir(), 'pingora-addr-'));
const services: Service[] = [];
afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.stop(false, 0)));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A service answering `client|server|clientJSON`, the addresses as the session prints them. */
async function addrService(setup: (s: Service) => void): Promise<Service> {
  const app = new HttpServer(
    serveHttpApp({
      response(session) {
        const client = session.clientAddr();
        const body = `${client}|${session.serverAddr()}|${JSON.stringify({ client })}`;
        return { status: 200, body };
      },
    }),
    { logger: memoryLogger() },
  );
  const svc = new Service('addr', app, { logger: memoryLogger() });
  setup(svc);
  await svc.start(new ShutdownController().watch);
  services.push(svc);
  return svc;
}

function get(options: http.RequestOptions): Promise<{ body: string; local: string; port: number }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ path: '/', agent: false, ...options }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ body, local: res.socket?.localAddress ?? '', port: localPort }));
    });
    let localPort = 0;
    req.on('socket', (s) => s.on('connect', () => (localPort = s.localPort ?? 0)));
    req.on('error', reject);
  });
}

function boundPort(svc: Service): number {
  const a = svc.addresses()[0];
  if (a?.kind !== 'tcp') throw new Error('not listening on TCP');
  return a.port;
}

describe('session addresses as text', () => {
  it('IPv4: ip:port, in template literals and in JSON', async () => {
    const svc = await addrService((s) => s.addTcp('127.0.0.1:0'));
    const port = boundPort(svc);
    const r = await get({ host: '127.0.0.1', port });
    const [client, server, json] = r.body.split('|');
    expect(client).toBe(`127.0.0.1:${r.port}`);
    expect(server).toBe(`127.0.0.1:${port}`);
    expect(JSON.parse(json!)).toEqual({ client: `127.0.0.1:${r.port}` });
  });

  it('every request of a keep-alive connection reports its client address', async () => {
    const svc = await addrService((s) => s.addTcp('127.0.0.1:0'));
    const port = boundPort(svc);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const a = await get({ host: '127.0.0.1', port, agent });
      const b = await get({ host: '127.0.0.1', port, agent });
      expect(a.body.split('|')[0]).toBe(`127.0.0.1:${a.port}`);
      // One connection (the second request did not connect again), the same address.
      expect(b.port).toBe(0);
      expect(b.body).toBe(a.body);
    } finally {
      agent.destroy();
    }
  });

  it('IPv6: [ip]:port', async (ctx) => {
    let svc: Service;
    try {
      svc = await addrService((s) => s.addTcp('[::1]:0'));
    } catch {
      ctx.skip(); // no IPv6 loopback in this environment
      return;
    }
    const port = boundPort(svc);
    const r = await get({ host: '::1', port, family: 6 });
    const [client, server] = r.body.split('|');
    expect(client).toBe(`[::1]:${r.port}`);
    expect(server).toBe(`[::1]:${port}`);
  });

  it('Unix socket: the server end is the socket path; the unnamed client end is undefined', async () => {
    const path = join(dir, 'addr.sock');
    await addrService((s) => s.addUds(path));
    const r = await get({ socketPath: path });
    const [client, server] = r.body.split('|');
    expect(server).toBe(path);
    expect(client).toBe('undefined');
  });
});
