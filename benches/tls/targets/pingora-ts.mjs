/**
 * pingora-ts behind a TLS listener (Mozilla intermediate, the given certificate), one process.
 *   pingora-ts.mjs <port> <originPort> <cert> <key> [alpn: none|h1|h2h1]
 * With an ALPN mode the acceptor reads the ClientHello first (Pingora's NOACK rule); `none`
 * answers no ALPN, as Pingora's `add_tls` does.
 */
import { HttpPeer, HttpServer, noopLogger, Service, ShutdownController, TlsSettings } from '@pingora-ts/core';
import { HttpProxy } from '@pingora-ts/proxy';

const [portArg, originArg, cert, key, alpn = 'none'] = process.argv.slice(2);
const addr = `127.0.0.1:${Number(originArg)}`;
const settings = TlsSettings.intermediate(cert, key);
if (alpn !== 'none') settings.setAlpn(alpn);
const proxy = new HttpProxy({ upstreamPeer: () => new HttpPeer(addr, false, '') }, { logger: noopLogger });
const service = new Service('bench', new HttpServer(proxy), { logger: noopLogger });
service.addTlsWithSettings(`127.0.0.1:${Number(portArg)}`, undefined, settings);
await service.start(new ShutdownController().watch);
