/**
 * nginx (Debian's) as the reference proxy in front of the benchmark origin: one worker, upstream
 * keep-alive (64 idle connections), no access log, run in the foreground. Each benchmark adds its
 * listener and tuning.
 */
import type { ChildProcess } from 'node:child_process';
import { spawnNginx } from '@pingora-ts/test-utils';
import { track } from './procs.js';

/** Where and how nginx listens and proxies. */
export interface NginxProxyOptions {
  /** Directory for config, logs and temp files (created if missing); one prefix may hold several ports. */
  prefix: string;
  port: number;
  originPort: number;
  /** The `listen` line and any TLS directives of the server block. Default `listen 127.0.0.1:<port>;`. */
  listen?: string;
  /** More `http`-level directives. */
  http?: string;
  /** More directives in the `upstream` block. */
  upstream?: string;
}

/** Starts nginx proxying 127.0.0.1:`port` to the origin; killed when the run exits. */
export function startNginxProxy(o: NginxProxyOptions): ChildProcess {
  const listen = o.listen ?? `listen 127.0.0.1:${o.port};`;
  const http = `  ${o.http ?? ''}
  upstream origin { server 127.0.0.1:${o.originPort}; keepalive 64; ${o.upstream ?? ''} }
  server {
    ${listen}
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }`;
  return track(spawnNginx({ prefix: o.prefix, port: o.port, http }));
}
