/**
 * pingora-ts with a minimal `upstreamPeer`, one process, HTTP/2 downstream.
 *   pingora-ts.mjs <mode> <port> <originPort> <certDir>
 * modes: h2c-h1 (h2c in, HTTP/1.1 out), h2c-h2c (h2c in, h2c out), h2-h2 (TLS h2 in, TLS h2 out)
 */
import { readFileSync } from 'node:fs';
import { HttpPeer, HttpServer, noopLogger, Service, ShutdownController, TlsSettings } from '@pingora-ts/core';
import { HttpProxy } from '@pingora-ts/proxy';

const [mode, portArg, originArg, certDir] = process.argv.slice(2);
const addr = `127.0.0.1:${originArg}`;
const tls = mode === 'h2-h2';
const h2up = mode !== 'h2c-h1';
const ca = tls ? readFileSync(`${certDir}/ca.pem`) : undefined;
const proxy = new HttpProxy(
  {
    upstreamPeer() {
      const peer = new HttpPeer(addr, tls, tls ? 'origin.test' : '');
      if (h2up) {
        peer.options.alpn = 'h2';
        peer.options.maxH2Streams = 100;
      }
      if (tls) peer.options.ca = ca;
      return peer;
    },
  },
  { logger: noopLogger, serverOptions: { h2c: !tls } },
);
const service = new Service('bench', new HttpServer(proxy), { logger: noopLogger });
if (tls) {
  service.addTlsWithSettings(
    `127.0.0.1:${portArg}`,
    undefined,
    TlsSettings.intermediate(`${certDir}/localhost.pem`, `${certDir}/localhost.key`).enableH2(),
  );
} else {
  service.addTcp(`127.0.0.1:${portArg}`);
}
await service.start(new ShutdownController().watch);
// A clean exit on SIGTERM lets --cpu-prof write its profile.
process.on('SIGTERM', () => process.exit(0));
