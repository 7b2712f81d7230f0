/**
 * The main job: a pingora-ts proxy on :6188 in front of three built-in demo origins. It sends a
 * few requests through itself so the log shows the round robin, prints the curl line to try,
 * and serves until Ctrl-C (SIGINT: fast shutdown) or SIGTERM (graceful).
 *
 *   npx --yes pnpm@10.34.8 start
 */
import { Server } from '@pingora-ts/core';
import { httpProxyService } from '@pingora-ts/proxy';
import { startDemoOrigin } from './lib/demo-origins.js';
import { roundRobinProxy } from './quick-start.js';

const port = Number(process.env.PORT ?? 6188);
const origins = await Promise.all(['origin-a', 'origin-b', 'origin-c'].map((n) => startDemoOrigin(n)));
const server = new Server(null);
server.bootstrap();
const proxy = httpProxyService(server.configuration, roundRobinProxy(origins.map((o) => o.addr)));
proxy.addTcp(`127.0.0.1:${port}`);
server.addService(proxy);
const running = server.runForever();

// Wait until the listener is up, then show a few requests going round the origins.
for (let i = 0; i < 50 && proxy.addresses().length === 0; i++) await new Promise((r) => setTimeout(r, 20));
for (let i = 0; i < 3; i++) {
  const res = await fetch(`http://127.0.0.1:${port}/`);
  console.log(`GET / → ${res.status} ${(await res.text()).trim()}`);
}
console.log(`\npingora-ts proxy on http://127.0.0.1:${port} in front of ${origins.map((o) => o.addr).join(', ')}`);
console.log(`try: curl -i http://127.0.0.1:${port}/   (Ctrl-C to stop)\n`);
await running;
